package authz

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// validPKCEValue reports whether s is a code_verifier or S256 challenge:
// 43 to 128 characters of [A-Z a-z 0-9 - . _ ~] (RFC 7636 §4.1, §4.2).
func validPKCEValue(s string) bool {
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

// VerifyPKCE checks a code_verifier against an S256 challenge (RFC 7636
// §4.6) in constant time.
func VerifyPKCE(challenge, verifier string) bool {
	if !validPKCEValue(verifier) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}
