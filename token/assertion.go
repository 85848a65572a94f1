package token

import (
	"context"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Client assertion bounds (RFC 7523 §3, draft-ietf-oauth-rfc7523bis).
const (
	// DefaultAssertionMaxSize bounds a client assertion before any decoding.
	DefaultAssertionMaxSize = 8 << 10
	// DefaultAssertionLifetime is how far ahead of now an assertion's exp may be.
	DefaultAssertionLifetime = 5 * time.Minute
	// MaxJTIBytes bounds an assertion's jti.
	MaxJTIBytes = 256
)

// ErrLifetime: the assertion's exp is further ahead than the verifier allows.
// It matches ErrInvalid.
var ErrLifetime = invalid("token: exp too far in the future")

// ErrSubject: the assertion's iss or sub is not the client id. It matches ErrInvalid.
var ErrSubject = invalid("token: iss and sub must be the client id")

// AssertionKeys finds the keys a client registered to sign its assertions.
type AssertionKeys interface {
	// AssertionKeys returns the key with kid, or every key when kid is
	// empty; no key is ErrUnknownKey (or nil keys). Keys carry their alg.
	AssertionKeys(ctx context.Context, kid string) ([]jose.JSONWebKey, error)
}

// AssertionVerifier checks a JWT a client signed to authenticate itself
// (private_key_jwt: RFC 7523 §2.2 and §3, OpenID Connect Core §9, with the
// audience rule of draft-ietf-oauth-rfc7523bis). It does not check that the
// jti is unused: the caller records the returned claims' JTI, once, until
// their ExpiresAt plus the leeway.
type AssertionVerifier struct {
	// ClientID is the client the assertion must name as iss and sub.
	ClientID string
	// Audiences are the accepted aud values: the issuer identifier, and
	// for compatibility the token endpoint URL. An aud array must hold
	// accepted values only.
	Audiences []string
	// Keys finds the client's keys.
	Keys AssertionKeys
	// Algorithms is the allow-list of header "alg" values, none and HMAC
	// never; nil means RS256, PS256, ES256 and EdDSA.
	Algorithms []string
	// MaxLifetime bounds exp - now. Zero means DefaultAssertionLifetime.
	MaxLifetime time.Duration
	// Leeway is the clock skew allowed for exp, nbf and iat. Zero means 30
	// seconds; more than 5 minutes is capped.
	Leeway time.Duration
	// MaxSize bounds the assertion in bytes, checked first. Zero means
	// DefaultAssertionMaxSize.
	MaxSize int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// UnverifiedSubject returns the sub claim of a compact JWS of at most
// maxSize bytes (zero: DefaultAssertionMaxSize) without verifying it: the
// client a client_assertion claims to be, to find its keys. Never trust it
// further than that lookup.
func UnverifiedSubject(raw string, maxSize int) (string, error) {
	if maxSize <= 0 {
		maxSize = DefaultAssertionMaxSize
	}
	if len(raw) > maxSize {
		return "", ErrTooLarge
	}
	_, p, _, ok := split(raw)
	if !ok {
		return "", ErrMalformed
	}
	c, err := parseClaims(p)
	if err != nil {
		return "", err
	}
	return c.Subject, nil
}

// LeewayOf returns the leeway a verifier with the given setting applies.
func LeewayOf(leeway time.Duration) time.Duration {
	if leeway <= 0 {
		return defaultLeeway
	}
	return min(leeway, maxLeeway)
}

// Verify checks raw and returns its claims. Errors wrap ErrInvalid for any
// defect of the assertion, or are ErrConfig / a key source failure.
func (v *AssertionVerifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	if v.ClientID == "" || len(v.Audiences) == 0 || v.Keys == nil {
		return nil, ErrConfig
	}
	maxSize := v.MaxSize
	if maxSize <= 0 {
		maxSize = DefaultAssertionMaxSize
	}
	t, err := parseCompact(raw, maxSize, v.algAllowed)
	if err != nil {
		return nil, err
	}
	keys, err := v.Keys.AssertionKeys(ctx, t.hdr.Kid)
	if err != nil {
		return nil, err
	}
	if err := verifyWithAny(keys, t.hdr, t.input, t.sig); err != nil {
		return nil, err
	}
	return t.claims(v.checkClaims)
}

// verifyWithAny verifies the signature with the key the kid named, or,
// without a kid, with any key of the header's algorithm. RFC 8725 §3.1: a
// key's own alg must be the header's.
func verifyWithAny(keys []jose.JSONWebKey, hdr jwsHeader, input, sig []byte) error {
	tried := false
	for _, k := range keys {
		if k.Key == nil || (hdr.Kid != "" && k.KeyID != hdr.Kid) {
			continue
		}
		if k.Algorithm != hdr.Alg {
			if hdr.Kid != "" {
				return ErrAlgorithm
			}
			continue
		}
		tried = true
		pub := k.Key
		if !k.IsPublic() {
			pub = k.Public().Key
		}
		if verifySignature(hdr.Alg, pub, input, sig) == nil {
			return nil
		}
	}
	if !tried {
		return ErrUnknownKey
	}
	return ErrSignature
}

func (v *AssertionVerifier) algAllowed(alg string) bool {
	if !Supported(alg) {
		return false
	}
	if v.Algorithms == nil {
		return true
	}
	for _, a := range v.Algorithms {
		if a == alg {
			return true
		}
	}
	return false
}

// checkClaims applies RFC 7523 §3: iss and sub, aud, exp (and its bound),
// nbf, iat, jti.
func (v *AssertionVerifier) checkClaims(c *Claims) error {
	leeway := LeewayOf(v.Leeway)
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if c.Issuer != v.ClientID || c.Subject != v.ClientID {
		return ErrSubject
	}
	if len(c.Audience) == 0 {
		return ErrAudience
	}
	for _, a := range c.Audience {
		if !contains(v.Audiences, a) {
			return ErrAudience
		}
	}
	if c.ExpiresAt.IsZero() || !now.Before(c.ExpiresAt.Add(leeway)) {
		return ErrExpired
	}
	lifetime := v.MaxLifetime
	if lifetime <= 0 {
		lifetime = DefaultAssertionLifetime
	}
	if c.ExpiresAt.After(now.Add(lifetime + leeway)) {
		return ErrLifetime
	}
	if !c.NotBefore.IsZero() && now.Add(leeway).Before(c.NotBefore) {
		return ErrNotYetValid
	}
	if !c.IssuedAt.IsZero() && now.Add(leeway).Before(c.IssuedAt) {
		return ErrNotYetValid
	}
	if c.JTI == "" || len(c.JTI) > MaxJTIBytes {
		return ErrMissingClaim
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
