package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// PKCE code challenge methods (RFC 7636 §4.2). Only S256 is accepted.
const PKCEMethodS256 = "S256"

// s256ChallengeLen is the length of an S256 code_challenge: the unpadded
// base64url encoding of a SHA-256 digest (RFC 7636 §4.2).
const s256ChallengeLen = 43

// ValidCodeVerifier reports whether s is a code_verifier: 43 to 128
// characters of [A-Z a-z 0-9 - . _ ~] (RFC 7636 §4.1).
func ValidCodeVerifier(s string) bool {
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

// ValidS256Challenge reports whether s can be an S256 code_challenge:
// exactly 43 base64url characters that decode to 32 bytes, with no unused
// bits set (RFC 7636 §4.2). Any other value matches no verifier.
func ValidS256Challenge(s string) bool {
	if len(s) != s256ChallengeLen {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// S256Challenge returns the S256 code_challenge of a code_verifier:
// BASE64URL(SHA256(verifier)) (RFC 7636 §4.2).
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// VerifyPKCE checks a code_verifier against an S256 challenge (RFC 7636
// §4.6) in constant time. A verifier outside RFC 7636 §4.1 never matches.
func VerifyPKCE(challenge, verifier string) bool {
	if !ValidCodeVerifier(verifier) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(S256Challenge(verifier)), []byte(challenge)) == 1
}
