package authz

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// s256ChallengeLen is the length of an S256 code_challenge: the unpadded
// base64url encoding of a SHA-256 digest (RFC 7636 §4.2).
const s256ChallengeLen = 43

// validCodeVerifier reports whether s is a code_verifier: 43 to 128
// characters of [A-Z a-z 0-9 - . _ ~] (RFC 7636 §4.1).
func validCodeVerifier(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// validS256Challenge reports whether s can be an S256 code_challenge:
// exactly 43 base64url characters that decode to 32 bytes, with no unused
// bits set (RFC 7636 §4.2). Any other value matches no verifier.
func validS256Challenge(s string) bool {
	if len(s) != s256ChallengeLen {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// VerifyPKCE checks a code_verifier against an S256 challenge (RFC 7636
// §4.6) in constant time.
func VerifyPKCE(challenge, verifier string) bool {
	if !validCodeVerifier(verifier) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}
