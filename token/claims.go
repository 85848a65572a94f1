package token

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// JWS "typ" values of the tokens scopekit signs.
const (
	// TypeAccessToken is the typ of JWT access tokens (RFC 9068 §2.1).
	TypeAccessToken = "at+jwt"
	// TypeIDToken is the typ of ID tokens (OIDC Core §2 leaves it "JWT").
	TypeIDToken = "JWT"
)

// AccessToken is the RFC 9068 §2.2 claim set of a JWT access token.
type AccessToken struct {
	// Issuer is "iss"; Subject is "sub", a user id or "<client_id>@clients".
	Issuer, Subject string
	// Audience is encoded as a string when it has one value, else an array.
	Audience []string
	// ClientID is "client_id"; AuthorizedParty is "azp", omitted when empty.
	ClientID, AuthorizedParty string
	// Scope is the space-separated "scope", omitted when empty.
	Scope string
	// GrantType is "gty", omitted when empty.
	GrantType string
	// JTI is "jti", the token's unique identifier (revocations record it).
	JTI string
	// IssuedAt and ExpiresAt are "iat" and "exp" in seconds.
	IssuedAt, ExpiresAt time.Time
	// AuthTime is "auth_time", omitted when zero.
	AuthTime time.Time
	// Permissions is the "permissions" array, omitted when nil.
	Permissions []string
	// JKT binds the token to a DPoP key: "cnf": {"jkt": JKT} (RFC 9449
	// §6.1), omitted when empty.
	JKT string
	// Extra holds further claims. A key naming a claim above is ignored:
	// extra claims never override registered ones.
	Extra map[string]any
}

// registered are the claim names AccessToken encodes itself.
var registered = map[string]bool{
	"iss": true, "sub": true, "aud": true, "client_id": true, "azp": true, "scope": true,
	"gty": true, "jti": true, "iat": true, "exp": true, "auth_time": true, "permissions": true, "nbf": true,
	"cnf": true,
}

// AppendJSON appends the claim set as a JSON object. Registered claims are
// written without reflection in a fixed order; Extra keys follow, sorted.
func (t *AccessToken) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"iss":`...)
	b = appendString(b, t.Issuer)
	b = append(b, `,"sub":`...)
	b = appendString(b, t.Subject)
	b = append(b, `,"aud":`...)
	if len(t.Audience) == 1 {
		b = appendString(b, t.Audience[0])
	} else {
		b = appendStrings(b, t.Audience)
	}
	b = append(b, `,"client_id":`...)
	b = appendString(b, t.ClientID)
	if t.AuthorizedParty != "" {
		b = append(b, `,"azp":`...)
		b = appendString(b, t.AuthorizedParty)
	}
	if t.Scope != "" {
		b = append(b, `,"scope":`...)
		b = appendString(b, t.Scope)
	}
	if t.GrantType != "" {
		b = append(b, `,"gty":`...)
		b = appendString(b, t.GrantType)
	}
	b = append(b, `,"jti":`...)
	b = appendString(b, t.JTI)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, t.IssuedAt.Unix(), 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, t.ExpiresAt.Unix(), 10)
	if !t.AuthTime.IsZero() {
		b = append(b, `,"auth_time":`...)
		b = strconv.AppendInt(b, t.AuthTime.Unix(), 10)
	}
	if t.Permissions != nil {
		b = append(b, `,"permissions":`...)
		b = appendStrings(b, t.Permissions)
	}
	if t.JKT != "" {
		b = append(b, `,"cnf":{"jkt":`...)
		b = appendString(b, t.JKT)
		b = append(b, '}')
	}
	if len(t.Extra) > 0 {
		keys := make([]string, 0, len(t.Extra))
		for k := range t.Extra {
			if !registered[k] {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, err := json.Marshal(t.Extra[k])
			if err != nil {
				return nil, fmt.Errorf("token: claim %q: %w", k, err)
			}
			b = append(b, ',')
			b = appendString(b, k)
			b = append(b, ':')
			b = append(b, v...)
		}
	}
	return append(b, '}'), nil
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string (RFC 8259 §7); invalid UTF-8
// is replaced by U+FFFD. It lets hot paths encode JSON without reflection.
func AppendJSONString(b []byte, s string) []byte { return appendString(b, s) }

// appendString appends s as a JSON string (RFC 8259 §7); invalid UTF-8 is
// replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// LeftHash computes at_hash or c_hash (OIDC Core §3.1.3.6, §3.3.2.11): the
// base64url left half of the hash of value, with the hash of alg — SHA-256
// for RS256, PS256 and ES256, SHA-512 for EdDSA with Ed25519.
func LeftHash(alg, value string) (string, error) {
	var sum []byte
	switch alg {
	case RS256, PS256, ES256:
		h := sha256.Sum256([]byte(value))
		sum = h[:]
	case EdDSA:
		h := sha512.Sum512([]byte(value))
		sum = h[:]
	default:
		return "", fmt.Errorf("token: no hash for algorithm %q", alg)
	}
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), nil
}
