package token

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
)

// KeySource finds the public key of a kid for verification.
type KeySource interface {
	// VerificationKey returns the public key for kid, or ErrUnknownKey.
	VerificationKey(ctx context.Context, kid string) (jose.JSONWebKey, error)
}

// ErrMissingClaim: an access token (typ at+jwt) lacks one of the claims
// RFC 9068 §2.2 requires. It matches ErrInvalid.
var ErrMissingClaim = invalid("token: required claim missing")

const (
	defaultLeeway  = 30 * time.Second
	maxLeeway      = 5 * time.Minute
	defaultMaxSize = 16 << 10
)

// Verifier checks signed JWTs (RFC 7519 §7.2, RFC 8725). Every field marked
// required must be set: an empty Verifier refuses everything with ErrConfig
// rather than accepting anything.
type Verifier struct {
	// Issuer is the exact "iss" required.
	Issuer string
	// Audience must be one of the token's "aud" values.
	Audience string
	// Algorithms is the allow-list of header "alg" values. "none" and HMAC
	// are never accepted, whatever it says.
	Algorithms []string
	// Keys finds verification keys by kid.
	Keys KeySource
	// Types lists accepted "typ" header values, compared without case and
	// with an optional "application/" prefix (RFC 8725 §3.11). Empty accepts any.
	Types []string
	// Leeway is the clock skew allowed for exp, nbf and iat. Zero means 30
	// seconds; more than 5 minutes is capped.
	Leeway time.Duration
	// MaxSize bounds the token length in bytes, checked before any decoding.
	// Zero means 16 KiB.
	MaxSize int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Claims is a verified claim set.
type Claims struct {
	// Issuer, Subject, ClientID, AuthorizedParty, Scope, GrantType and JTI
	// are the "iss", "sub", "client_id", "azp", "scope", "gty" and "jti"
	// claims (RFC 7519 §4.1, RFC 9068 §2.2), empty when absent.
	Issuer, Subject, ClientID, AuthorizedParty, Scope, GrantType, JTI string
	// Audience is "aud", a string or an array in the token.
	Audience []string
	// IssuedAt, NotBefore and ExpiresAt are zero when absent.
	IssuedAt, NotBefore, ExpiresAt time.Time
	// KeyID, Algorithm and Type come from the JWS header.
	KeyID, Algorithm, Type string
	// JKT is "cnf": {"jkt"}, the thumbprint of the DPoP key the token is
	// bound to (RFC 9449 §6.1); empty when absent.
	JKT string
	// Raw holds every claim of the payload.
	Raw map[string]any
}

// Scopes returns the "scope" claim split into its values.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// jwsHeader holds the header parameters the verifier reads.
type jwsHeader struct{ Alg, Kid, Typ string }

// parseHeader decodes a JWS header with exact, case-sensitive member names
// (RFC 7515 §4: names are case-sensitive; encoding/json's struct decoding
// is not). A header the verifier cannot honour is refused: crit (RFC 7515
// §4.1.11: it implements no extension), and a key carried or pointed to by
// the token itself (jwk, jku, x5c, x5u; RFC 8725 §3.10), since the key is
// found by kid alone. A null member counts as absent.
func parseHeader(part string) (jwsHeader, error) {
	if h, ok := parseHeaderFast(part); ok {
		return h, nil
	}
	return parseHeaderFull(part)
}

// parseHeaderFull is parseHeader for any header.
func parseHeaderFull(part string) (jwsHeader, error) {
	var m map[string]json.RawMessage
	if err := decodeJSON(part, &m); err != nil || m == nil {
		return jwsHeader{}, ErrMalformed
	}
	for _, k := range [...]string{"crit", "jwk", "jku", "x5c", "x5u"} {
		if _, present := m[k]; present {
			return jwsHeader{}, ErrMalformed
		}
	}
	var h jwsHeader
	for _, f := range [...]struct {
		name string
		dst  *string
	}{{"alg", &h.Alg}, {"kid", &h.Kid}, {"typ", &h.Typ}, {"nonce", new(string)}} {
		if v, ok := m[f.name]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, f.dst); err != nil {
				return jwsHeader{}, ErrMalformed
			}
		}
	}
	return h, nil
}

// Verify checks raw and returns its claims. Errors wrap ErrInvalid for any
// token defect, or are ErrConfig / a key source failure otherwise.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	if v.Issuer == "" || v.Audience == "" || len(v.Algorithms) == 0 || v.Keys == nil {
		return nil, ErrConfig
	}
	max := v.MaxSize
	if max <= 0 {
		max = defaultMaxSize
	}
	t, err := parseCompact(raw, max, v.algAllowed)
	if err != nil {
		return nil, err
	}
	hdr := t.hdr
	if hdr.Kid == "" {
		return nil, ErrMalformed
	}
	if !v.typeAllowed(hdr.Typ) {
		return nil, ErrType
	}
	jwk, err := v.Keys.VerificationKey(ctx, hdr.Kid)
	if err != nil {
		return nil, err
	}
	// RFC 8725 §3.1: the key decides the algorithm, not the token.
	if jwk.Algorithm != hdr.Alg || jwk.Key == nil {
		return nil, ErrAlgorithm
	}
	pub := jwk.Key
	if !jwk.IsPublic() {
		pub = jwk.Public().Key
	}
	if err := verifySignature(hdr.Alg, pub, t.input, t.sig); err != nil {
		return nil, err
	}
	return t.claims(v.checkClaims)
}

// compact is a compact JWS cut into its parts, its header parsed and its
// signature decoded, not yet verified.
type compact struct {
	hdr     jwsHeader
	payload string // the base64url payload
	input   []byte // the signing input: header.payload
	sig     []byte
}

// parseCompact takes the steps every verification takes before it needs a
// key: the size bound before any decoding, the three parts, the header
// (exact member names, refused members), the algorithm against allowed, and
// the signature's base64url.
func parseCompact(raw string, maxSize int, allowed func(string) bool) (compact, error) {
	if len(raw) > maxSize {
		return compact{}, ErrTooLarge
	}
	h, p, sigPart, ok := split(raw)
	if !ok {
		return compact{}, ErrMalformed
	}
	hdr, err := parseHeader(h)
	if err != nil {
		return compact{}, err
	}
	if !allowed(hdr.Alg) {
		return compact{}, ErrAlgorithm
	}
	sig, err := base64.RawURLEncoding.DecodeString(sigPart)
	if err != nil {
		return compact{}, ErrMalformed
	}
	return compact{hdr: hdr, payload: p, input: []byte(raw[:len(h)+1+len(p)]), sig: sig}, nil
}

// claims parses the payload of a verified token, records the header's kid,
// alg and typ in it, and runs check.
func (t compact) claims(check func(*Claims) error) (*Claims, error) {
	c, err := parseClaims(t.payload)
	if err != nil {
		return nil, err
	}
	c.KeyID, c.Algorithm, c.Type = t.hdr.Kid, t.hdr.Alg, t.hdr.Typ
	if err := check(c); err != nil {
		return nil, err
	}
	return c, nil
}

// split cuts a compact JWS into its three parts.
func split(raw string) (h, p, s string, ok bool) {
	i := strings.IndexByte(raw, '.')
	if i <= 0 {
		return "", "", "", false
	}
	j := strings.IndexByte(raw[i+1:], '.')
	if j <= 0 {
		return "", "", "", false
	}
	j += i + 1
	if strings.IndexByte(raw[j+1:], '.') >= 0 || j == len(raw)-1 {
		return "", "", "", false
	}
	return raw[:i], raw[i+1 : j], raw[j+1:], true
}

// decodeJSON decodes a base64url JSON part. Invalid UTF-8 is refused: the
// JSON decoder would replace it silently (RFC 8259 §8.1 requires UTF-8, and
// RFC 8725 §3.4 asks for the same validation as any other input).
func decodeJSON(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	if !utf8.Valid(b) {
		return ErrMalformed
	}
	return json.Unmarshal(b, v)
}

func (v *Verifier) algAllowed(alg string) bool {
	if !Supported(alg) {
		return false
	}
	for _, a := range v.Algorithms {
		if a == alg {
			return true
		}
	}
	return false
}

func (v *Verifier) typeAllowed(typ string) bool {
	if len(v.Types) == 0 {
		return true
	}
	t := mediaType(typ)
	for _, want := range v.Types {
		if mediaType(want) == t {
			return true
		}
	}
	return false
}

// mediaType normalises a typ value: lower-case, without the optional
// "application/" prefix (RFC 7515 §4.1.9).
func mediaType(typ string) string {
	return strings.TrimPrefix(strings.ToLower(typ), "application/")
}

// parseClaims decodes the payload once into Raw and reads the registered
// claims out of it.
func parseClaims(p string) (*Claims, error) {
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return nil, ErrMalformed
	}
	return ParseClaims(b)
}

// ParseClaims reads a JSON claims set, as a JWT payload carries it, into
// Claims, without any verification: for claims the caller already trusts
// (an opaque token's record in the issuer's store). A set that is not one
// JSON object, or whose registered claims have the wrong types, is
// ErrMalformed.
func ParseClaims(b []byte) (*Claims, error) {
	if !utf8.Valid(b) {
		return nil, ErrMalformed
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil || dec.More() || raw == nil {
		return nil, ErrMalformed
	}
	c := &Claims{Raw: raw}
	str := func(k string, dst *string) bool {
		x, present := raw[k]
		if !present {
			return true
		}
		s, ok := x.(string)
		*dst = s
		return ok
	}
	num := func(k string, dst *time.Time) bool {
		x, present := raw[k]
		if !present {
			return true
		}
		n, ok := x.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		if err != nil || f < 0 || f > 1e11 {
			return false
		}
		*dst = time.Unix(int64(f), 0)
		return true
	}
	ok := str("iss", &c.Issuer) && str("sub", &c.Subject) && str("client_id", &c.ClientID) &&
		str("azp", &c.AuthorizedParty) && str("scope", &c.Scope) && str("gty", &c.GrantType) &&
		str("jti", &c.JTI) && num("iat", &c.IssuedAt) && num("nbf", &c.NotBefore) && num("exp", &c.ExpiresAt)
	if !ok {
		return nil, ErrMalformed
	}
	if cnf, ok := raw["cnf"].(map[string]any); ok {
		c.JKT, _ = cnf["jkt"].(string)
	}
	switch a := raw["aud"].(type) {
	case string:
		c.Audience = []string{a}
	case []any:
		for _, x := range a {
			s, ok := x.(string)
			if !ok {
				return nil, ErrMalformed
			}
			c.Audience = append(c.Audience, s)
		}
	case nil:
	default:
		return nil, ErrMalformed
	}
	return c, nil
}

// checkClaims applies the time, issuer and audience rules.
func (v *Verifier) checkClaims(c *Claims) error {
	leeway := v.Leeway
	if leeway <= 0 {
		leeway = defaultLeeway
	}
	if leeway > maxLeeway {
		leeway = maxLeeway
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if c.ExpiresAt.IsZero() || !now.Before(c.ExpiresAt.Add(leeway)) {
		return ErrExpired
	}
	if !c.NotBefore.IsZero() && now.Add(leeway).Before(c.NotBefore) {
		return ErrNotYetValid
	}
	if !c.IssuedAt.IsZero() && now.Add(leeway).Before(c.IssuedAt) {
		return ErrNotYetValid
	}
	if c.Issuer != v.Issuer {
		return ErrIssuer
	}
	// RFC 9068 §2.2: a JWT access token carries sub, client_id, iat and jti
	// (iss, exp and aud are checked above and below).
	if mediaType(c.Type) == TypeAccessToken &&
		(c.Subject == "" || c.ClientID == "" || c.IssuedAt.IsZero() || c.JTI == "") {
		return ErrMissingClaim
	}
	for _, a := range c.Audience {
		if a == v.Audience {
			return nil
		}
	}
	return ErrAudience
}
