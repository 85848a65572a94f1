package authz

import (
	"crypto/rand"
	"strings"

	"github.com/scopekit/scopekit/token"
)

// userCodeAlphabet is the alphabet of user codes: 20 consonants, no vowels
// (no words), none easily mistaken for another (RFC 8628 §6.1). A user
// code is userCodeLength of them, about 34.6 bits, shown as XXXX-XXXX.
const (
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
	userCodeLength   = 8
)

// maxUserCodeInput bounds what the verification page reads as a user code.
const maxUserCodeInput = 32

// newUserCode draws a normalised user code uniformly from the alphabet.
func newUserCode() string {
	var b [userCodeLength]byte
	var r [1]byte
	for i := 0; i < len(b); {
		if _, err := rand.Read(r[:]); err != nil {
			panic("authz: crypto/rand failed: " + err.Error())
		}
		// 240 = 12 * 20: below it every letter is equally likely.
		if r[0] < 240 {
			b[i] = userCodeAlphabet[r[0]%byte(len(userCodeAlphabet))]
			i++
		}
	}
	return string(b[:])
}

// formatUserCode shows a normalised user code as XXXX-XXXX.
func formatUserCode(c string) string { return c[:4] + "-" + c[4:] }

// normalizeUserCode reads what a user typed: case, dashes and spaces are
// ignored (RFC 8628 §6.1). ok is false unless it is userCodeLength letters
// of the alphabet.
func normalizeUserCode(in string) (string, bool) {
	if len(in) > maxUserCodeInput {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		if strings.IndexByte(userCodeAlphabet, c) < 0 || b.Len() == userCodeLength {
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), b.Len() == userCodeLength
}

// userCodeKey is the storage key of a normalised user code.
func userCodeKey(c string) string { return token.Hash("user_code\x00" + c) }

// newDeviceCode returns a device code for the user code: the user code,
// which the device shows anyway, locates the record; 256 random bits
// make it unguessable.
func newDeviceCode(userCode string) string { return userCode + "." + token.Random(32) }

// parseDeviceCode returns the user code a device code names.
func parseDeviceCode(raw string) (string, bool) {
	uc, rest, ok := strings.Cut(raw, ".")
	if !ok || len(raw) > 128 || rest == "" {
		return "", false
	}
	return normalizeUserCode(uc)
}
