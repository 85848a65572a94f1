package authz

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/scopekit/scopekit/token"
)

// Authorizer checks bearer tokens for one API: the resource-server side of
// scopekit. It verifies the JWT (signature against an algorithm allow-list,
// iss, aud, exp/nbf/iat, typ), refuses revoked tokens when it can see the
// issuer's store, and checks the required scopes. It is safe for concurrent
// use.
type Authorizer struct {
	audience string
	realm    string
	base     token.Verifier
	// revoked is nil for a remote issuer, whose revocations are not visible.
	revoked func(ctx context.Context, family, jti string) (bool, error)
	// cache remembers verified tokens; nil when disabled.
	cache *verifiedCache
	now   func() time.Time
	// maxBody bounds how much of a form body the middleware reads to find
	// a second access token; zero means 64 KiB.
	maxBody int64
}

// bodyLimit is maxBody with its default.
func (a *Authorizer) bodyLimit() int64 {
	if a.maxBody > 0 {
		return a.maxBody
	}
	return defaultMaxBody
}

// Authorizer returns an in-process Authorizer of this server's tokens for
// the API audience (empty means Config.DefaultAudience). It uses the
// server's keys and refuses tokens revoked in its store.
func (s *Server) Authorizer(audience string) *Authorizer {
	if audience == "" {
		audience = s.cfg.DefaultAudience
	}
	return &Authorizer{
		audience: audience,
		realm:    s.cfg.Realm,
		base:     *s.verifier(audience),
		revoked:  s.store.TokenRevoked,
		cache:    s.cache,
		now:      s.cfg.Now,
		maxBody:  s.cfg.MaxBodyBytes,
	}
}

// Authorize verifies a bearer token of this server and checks the
// requirement (RFC 6750). Requirement.Audience defaults to
// Config.DefaultAudience.
func (s *Server) Authorize(ctx context.Context, raw string, req Requirement) (*Principal, error) {
	return s.defaultAuthorizer.Authorize(ctx, raw, req)
}

// Audience returns the API identifier the authorizer checks by default.
func (a *Authorizer) Audience() string { return a.audience }

// Authorize verifies raw and checks req. A bad token is invalid_token; a
// missing scope is insufficient_scope naming it; a store outage while
// checking revocation is temporarily_unavailable (the token is not accepted).
func (a *Authorizer) Authorize(ctx context.Context, raw string, req Requirement) (*Principal, error) {
	p, err := a.verify(ctx, raw, req.Audience)
	if err != nil {
		return nil, err
	}
	if err := p.check(req); err != nil {
		return nil, err
	}
	return p, nil
}

// verify checks the token alone, without scopes. A token verified before
// costs a map lookup, a key lookup, an audience check and the revocation
// check.
func (a *Authorizer) verify(ctx context.Context, raw, audience string) (*Principal, error) {
	if raw == "" {
		return nil, ErrInvalidToken.WithDescription("no token")
	}
	if audience == "" {
		audience = a.audience
	}
	if e := a.cache.get(raw, a.now()); e != nil {
		if !e.intact() || !a.keyKnown(ctx, e.kid) {
			// Modified by a handler, or its key was removed: verify afresh.
			a.cache.forget(raw)
		} else if containsString(e.audience, audience) {
			if err := a.checkRevoked(ctx, e.jti); err != nil {
				return nil, err
			}
			return e.p, nil
		}
	}
	v := &a.base
	if audience != "" && audience != a.audience {
		c := a.base
		c.Audience = audience
		v = &c
	}
	if v.Audience == "" {
		return nil, ErrServerError.WithCause(errors.New("authz: authorizer has no audience"))
	}
	claims, err := v.Verify(ctx, raw)
	if err != nil {
		if errors.Is(err, token.ErrInvalid) {
			return nil, ErrInvalidToken.WithDescription(tokenErrorDescription(err)).WithCause(err)
		}
		return nil, AsError(err)
	}
	if err := a.checkRevoked(ctx, claims.JTI); err != nil {
		return nil, err
	}
	p := principalOf(claims)
	a.cache.put(raw, claims.KeyID, p)
	return p, nil
}

// keyKnown reports whether the key that signed a cached token is still one
// the authorizer trusts: a key removed from the server (RemoveKey) or gone
// from a remote issuer's refetched JWKS stops its tokens at once, cached or
// not. For a known key this is a map lookup.
func (a *Authorizer) keyKnown(ctx context.Context, kid string) bool {
	_, err := a.base.Keys.VerificationKey(ctx, kid)
	return err == nil
}

// checkRevoked asks the store whether the token (or its family) was
// revoked; an outage fails closed.
func (a *Authorizer) checkRevoked(ctx context.Context, jti string) error {
	if a.revoked == nil {
		return nil
	}
	revoked, err := a.revoked(ctx, familyOf(jti), jti)
	if err != nil {
		return AsError(err)
	}
	if revoked {
		return ErrInvalidToken.WithDescription("the token has been revoked")
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func principalOf(c *token.Claims) *Principal {
	return &Principal{
		Subject:   c.Subject,
		ClientID:  c.ClientID,
		Scope:     c.Scope,
		Audience:  c.Audience,
		JTI:       c.JTI,
		IssuedAt:  c.IssuedAt,
		ExpiresAt: c.ExpiresAt,
		Claims:    c.Raw,
	}
}

// tokenErrorDescription gives the public reason a token was refused, naming
// the failed check but nothing of the server's keys or configuration.
func tokenErrorDescription(err error) string {
	switch {
	case errors.Is(err, token.ErrExpired):
		return "the token has expired"
	case errors.Is(err, token.ErrNotYetValid):
		return "the token is not valid yet"
	case errors.Is(err, token.ErrAudience):
		return "the token is not for this API"
	case errors.Is(err, token.ErrIssuer):
		return "the token is from another issuer"
	case errors.Is(err, token.ErrTooLarge):
		return "the token is too large"
	default:
		return "the token is malformed or its signature is invalid"
	}
}

// familyOf returns the token family encoded in a jti ("<family>.<random>"),
// or "" for a token outside any family.
func familyOf(jti string) string {
	if i := strings.IndexByte(jti, '.'); i > 0 {
		return jti[:i]
	}
	return ""
}
