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
	h := sum256(secret)
	return subtle.ConstantTimeCompare(h[:], hash) == 1
}

// Hash returns base64url(SHA-256(s)): the key under which codes and refresh
// tokens are stored, so that a copy of the store holds no usable token.
func Hash(s string) string {
	h := sum256(s)
	var out [43]byte
	return string(base64.RawURLEncoding.AppendEncode(out[:0], h[:]))
}

// sum256 is the SHA-256 of s, copied to the stack rather than the heap when
// it is no longer than a token or secret of the issuer's.
func sum256(s string) [sha256.Size]byte {
	var buf [128]byte
	if len(s) <= len(buf) {
		return sha256.Sum256(append(buf[:0], s...))
	}
	return sha256.Sum256([]byte(s))
}
