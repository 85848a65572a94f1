package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

// TestS256ChallengeExact: an S256 challenge is the 43-character base64url
// SHA-256 digest (RFC 7636 §4.2); any other length or alphabet, or unused
// bits set, can never match a verifier.
func TestS256ChallengeExact(t *testing.T) {
	sum := sha256.Sum256([]byte("verifier"))
	valid := base64.RawURLEncoding.EncodeToString(sum[:])
	for _, tc := range []struct {
		name, s string
		ok      bool
	}{
		{"digest", valid, true},
		{"42", valid[:42], false},
		{"44", valid + "A", false},
		{"128", strings.Repeat("A", 128), false},
		{"verifier-only character", valid[:42] + ".", false},
		{"standard base64", valid[:42] + "+", false},
		{"unused bits set", valid[:42] + "B", false},
		{"newline", valid[:21] + "\n" + valid[22:], false},
	} {
		if got := ValidS256Challenge(tc.s); got != tc.ok {
			t.Errorf("%s: ValidS256Challenge(%q) = %v", tc.name, tc.s, got)
		}
	}
}

// TestCodeVerifierExact: a code_verifier is 43 to 128 characters of the
// unreserved set (RFC 7636 §4.1).
func TestCodeVerifierExact(t *testing.T) {
	unreserved := "ABCXYZabcxyz0189-._~"
	for _, tc := range []struct {
		name, s string
		ok      bool
	}{
		{"42", strings.Repeat("a", 42), false},
		{"43", strings.Repeat("a", 43), true},
		{"128", strings.Repeat("a", 108) + unreserved, true},
		{"129", strings.Repeat("a", 129), false},
		{"space", strings.Repeat("a", 42) + " ", false},
		{"plus", strings.Repeat("a", 42) + "+", false},
		{"slash", strings.Repeat("a", 42) + "/", false},
		{"percent", strings.Repeat("a", 42) + "%", false},
		{"non-ASCII", strings.Repeat("a", 41) + "é", false},
	} {
		if got := ValidCodeVerifier(tc.s); got != tc.ok {
			t.Errorf("%s: ValidCodeVerifier(%q) = %v", tc.name, tc.s, got)
		}
	}
	// VerifyPKCE applies the same rule: a matching but too short verifier fails.
	short := strings.Repeat("a", 42)
	sum := sha256.Sum256([]byte(short))
	if VerifyPKCE(base64.RawURLEncoding.EncodeToString(sum[:]), short) {
		t.Fatal("42-character verifier accepted")
	}
}
