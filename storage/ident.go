package storage

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIDBytes bounds the length of an identifier in bytes.
const MaxIDBytes = 255

// MachineSubjectSuffix ends the "sub" of a client's own tokens (client
// credentials): MachineSubject(id) is id + MachineSubjectSuffix. No valid user
// id ends with it (ValidUserID), so a machine subject never equals a user's.
const MachineSubjectSuffix = "@clients"

// ValidID reports whether id can name a record the issuer writes or reads: a
// client id, user id, role or group id or API identifier. It must be valid
// UTF-8 of printable characters (letters, marks, numbers, punctuation,
// symbols and the ASCII space; no control, format or other invisible
// characters, and so never KeySep), non-empty and at most MaxIDBytes long.
// Invalid UTF-8 is refused because drivers and JSON encoders replace it with
// U+FFFD, which would let two distinct ids collide.
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDBytes || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// ValidUserID reports whether id is a valid user id: a ValidID that does not
// end with MachineSubjectSuffix, so no user shares a subject with a client.
func ValidUserID(id string) bool {
	return ValidID(id) && !strings.HasSuffix(id, MachineSubjectSuffix)
}

// MachineSubject returns the "sub" of the tokens a client gets for itself
// (client credentials): its id followed by MachineSubjectSuffix.
func MachineSubject(clientID string) string { return clientID + MachineSubjectSuffix }
