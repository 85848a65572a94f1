package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// Random returns n bytes from crypto/rand, base64url-encoded without padding.
func Random(n int) string {
	// Identifiers of up to 32 bytes (every one the issuer makes) are drawn
	// and encoded on the stack: the string is the only allocation.
	var raw [32]byte
	var out [43]byte
	b := raw[:]
	if n > len(raw) {
		b = make([]byte, n)
	}
	b = b[:n]
	if _, err := rand.Read(b); err != nil {
		// crypto/rand.Read never fails on supported platforms (Go 1.24+).
		panic("token: crypto/rand failed: " + err.Error())
	}
	return string(base64.RawURLEncoding.AppendEncode(out[:0], b))
}

// NewSecret returns a new client secret of 256 bits of entropy.
func NewSecret() string { return Random(32) }

// SecretHash returns the SHA-256 of a client secret, the form stored at rest.
func SecretHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CheckSecret reports whether secret hashes to hash, comparing in constant
// time. An empty hash never matches.
func CheckSecret(hash []byte, secret string) bool {
	if len(hash) != sha256.Size {
		return false
	}
	h := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(h[:], hash) == 1
}

// Hash returns base64url(SHA-256(s)): the key under which codes and refresh
// tokens are stored, so that a copy of the store holds no usable token.
func Hash(s string) string {
	h := sha256.Sum256([]byte(s))
	var out [43]byte
	return string(base64.RawURLEncoding.AppendEncode(out[:0], h[:]))
}
