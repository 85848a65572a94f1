package token

import "encoding/base64"

// maxFastHeader bounds the encoded headers parseHeaderFast reads; the
// headers of this package's keys are about 120 characters.
const maxFastHeader = 256

// parseHeaderFast parses the kind of header this package writes: a flat
// object of the members alg, kid and typ, each at most once, with string
// values free of escapes and no whitespace. It allocates the kid only. ok
// is false for any other header, which parseHeader then decodes in full:
// on every header it accepts, the two agree (FuzzHeaderFastAgrees).
func parseHeaderFast(part string) (h jwsHeader, ok bool) {
	if len(part) > maxFastHeader {
		return h, false
	}
	var src [maxFastHeader]byte
	var dst [maxFastHeader * 3 / 4]byte
	n := copy(src[:], part)
	m, err := base64.RawURLEncoding.Decode(dst[:], src[:n])
	if err != nil {
		return h, false
	}
	b := dst[:m]
	if len(b) < 2 || b[0] != '{' {
		return h, false
	}
	var seen [3]bool
	for i := 1; ; {
		name, next, ok := plainString(b, i)
		if !ok || next >= len(b) || b[next] != ':' {
			return h, false
		}
		val, next, ok := plainString(b, next+1)
		if !ok || next >= len(b) {
			return h, false
		}
		var slot int
		switch string(name) {
		case "alg":
			slot, h.Alg = 0, intern(val, RS256, PS256, ES256, EdDSA)
		case "kid":
			slot, h.Kid = 1, string(val)
		case "typ":
			slot, h.Typ = 2, intern(val, TypeAccessToken, TypeIDToken, "dpop+jwt", "client-authentication+jwt")
		default:
			return jwsHeader{}, false
		}
		if seen[slot] {
			return jwsHeader{}, false
		}
		seen[slot] = true
		switch b[next] {
		case ',':
			i = next + 1
		case '}':
			return h, next == len(b)-1
		default:
			return jwsHeader{}, false
		}
	}
}

// plainString reads a JSON string at b[i] made of printable ASCII without
// escapes, and returns its contents and the index after its closing quote.
func plainString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// intern returns the constant among known that v spells, so that a
// header's common values cost no allocation, or a copy of v.
func intern(v []byte, known ...string) string {
	for _, k := range known {
		if string(v) == k {
			return k
		}
	}
	return string(v)
}
