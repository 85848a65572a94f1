package resource

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/token"
)

// Authorizer checks bearer tokens for one API: the resource-server side of
// scopekit. It verifies the JWT (signature against an algorithm allow-list,
// iss, aud, exp/nbf/iat, typ), refuses revoked tokens when it can see the
// issuer's revocations, and checks the required scopes. It is safe for
// concurrent use.
type Authorizer struct {
	audience string
	realm    string
	// metadataURL is the resource_metadata of challenges (WithMetadata).
	metadataURL string
	base        token.Verifier
	// revocations is nil for a remote issuer, whose revocations are not visible.
	revocations RevocationChecker
	// cache remembers verified tokens; nil when disabled.
	cache *Cache
	now   func() time.Time
	// maxBody bounds how much of a form body the middleware reads to find
	// a second access token.
	maxBody int64
	// onResult is the hook of WithResultHook; nil without one.
	onResult func(ctx context.Context, r Result)
	// dpop checks DPoP proofs; dpopBase and dpopReplay are
	// Config.DPoPBaseURL and Config.DPoPReplay.
	dpop       token.DPoPVerifier
	dpopBase   string
	dpopReplay Replay
	// opaque resolves opaque access tokens; nil refuses them.
	opaque OpaqueResolver
}

// RevocationChecker reports whether a token was revoked: the token jti, or
// its family when family is not empty. The issuer's storage.Store satisfies
// it. An error means the answer is unknown, and the token is refused.
type RevocationChecker interface {
	TokenRevoked(ctx context.Context, family, jti string) (bool, error)
}

// Config configures an Authorizer built around a verifier, as the issuer
// does for its own tokens (authz.Server.Authorizer). For another issuer's
// tokens use NewRemote.
type Config struct {
	// Verifier checks the tokens; its Audience is the authorizer's default
	// audience and its Now the clock of the cache too.
	Verifier token.Verifier
	// Realm is the realm of WWW-Authenticate challenges.
	Realm string
	// Revocations, when set, is asked on every call, a cached token
	// included, whether the token was revoked. Its errors fail closed:
	// 503 temporarily_unavailable. A RevocationFeed answers for cached
	// tokens from the revocations pushed to it, without a call.
	Revocations RevocationChecker
	// Cache remembers verified tokens; it may be shared by the authorizers
	// of one issuer. Nil disables caching.
	Cache *Cache
	// MaxBodyBytes bounds how much of a form body the middleware reads to
	// find a second access token (RFC 6750 §2). Zero means 64 KiB.
	MaxBodyBytes int64
	// DPoPBaseURL is the public URL base of the API (scheme://host[:port]
	// and any path prefix a proxy strips), as clients address it: a DPoP
	// proof's htu must be it followed by the request path (RFC 9449 §4.3).
	// Empty means the URL the request reached this server by, which
	// differs behind a proxy.
	DPoPBaseURL string
	// DPoPWindow bounds how far a proof's iat may be from now, either way.
	// Zero means 60 seconds.
	DPoPWindow time.Duration
	// DPoPReplay, when set, remembers accepted proofs' jti so that each
	// proof is accepted once (RFC 9449 §11.1).
	DPoPReplay Replay
	// Opaque, when set, resolves the opaque access tokens (OpaquePrefix)
	// of APIs that issue them: a token of that shape is resolved, never
	// parsed as a JWT. Nil refuses opaque tokens as malformed.
	Opaque OpaqueResolver
}

// defaultMaxBody is Config.MaxBodyBytes when zero.
const defaultMaxBody = 64 << 10

// New returns an Authorizer of cfg.
func New(cfg Config) *Authorizer {
	now := cfg.Verifier.Now
	if now == nil {
		now = time.Now
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = defaultMaxBody
	}
	return &Authorizer{
		audience:    cfg.Verifier.Audience,
		realm:       cfg.Realm,
		base:        cfg.Verifier,
		revocations: cfg.Revocations,
		cache:       cfg.Cache,
		now:         now,
		maxBody:     cfg.MaxBodyBytes,
		dpop:        token.DPoPVerifier{Window: cfg.DPoPWindow, Now: now},
		dpopBase:    strings.TrimRight(cfg.DPoPBaseURL, "/"),
		dpopReplay:  cfg.DPoPReplay,
		opaque:      cfg.Opaque,
	}
}

// Audience returns the API identifier the authorizer checks by default.
func (a *Authorizer) Audience() string { return a.audience }

// Authorize verifies raw, a bearer token, and checks req. A DPoP-bound
// token is refused (see AuthorizeDPoP). A bad token is invalid_token; a
// missing scope is insufficient_scope naming it; a failed revocation check
// is temporarily_unavailable (the token is not accepted). Errors are
// *oauth.Error values.
func (a *Authorizer) Authorize(ctx context.Context, raw string, req Requirement) (*Principal, error) {
	p, cached, err := a.verify(ctx, raw, req.Audience)
	if err == nil && p.JKT != "" {
		// RFC 9449 §7.1: a DPoP-bound token is never a bearer token.
		err = oauth.ErrInvalidToken.WithDescription("the token is DPoP-bound: present it with the DPoP scheme and a proof")
	}
	if err == nil {
		err = p.check(req)
	}
	a.report(ctx, err, cached)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// report hands the outcome of one check to the result hook, if any.
func (a *Authorizer) report(ctx context.Context, err error, cached bool) {
	if a.onResult != nil {
		a.onResult(ctx, Result{Err: err, Cached: cached})
	}
}

// verify checks the token alone, without scopes. A token verified before
// costs a map lookup, a key lookup, an audience check and the revocation
// check.
func (a *Authorizer) verify(ctx context.Context, raw, audience string) (p *Principal, cached bool, err error) {
	if raw == "" {
		return nil, false, oauth.ErrInvalidToken.WithDescription("no token")
	}
	if audience == "" {
		audience = a.audience
	}
	if _, ok := SplitOpaque(raw); ok && a.opaque != nil {
		p, err := a.verifyOpaque(ctx, raw, audience)
		return p, false, err
	}
	if e := a.cache.get(raw, a.now()); e != nil {
		if !e.intact() || !a.keyKnown(ctx, e.kid) {
			// Modified by a handler, or its key was removed: verify afresh.
			a.cache.Forget(raw)
		} else if containsString(e.audience, audience) {
			if err := a.checkCachedRevoked(ctx, raw, e); err != nil {
				return nil, true, err
			}
			return e.p, true, nil
		}
	}
	v := &a.base
	if audience != "" && audience != a.audience {
		c := a.base
		c.Audience = audience
		v = &c
	}
	if v.Audience == "" {
		return nil, false, oauth.ErrServerError.WithCause(errors.New("resource: authorizer has no audience"))
	}
	claims, err := v.Verify(ctx, raw)
	if err != nil {
		if errors.Is(err, token.ErrInvalid) {
			return nil, false, oauth.ErrInvalidToken.WithDescription(tokenErrorDescription(err)).WithCause(err)
		}
		return nil, false, asError(err)
	}
	epoch := a.feedEpoch()
	if err := a.checkRevoked(ctx, claims.JTI); err != nil {
		return nil, false, err
	}
	p = principalOf(claims)
	a.cache.put(raw, claims.KeyID, p, epoch)
	return p, false, nil
}

// keyKnown reports whether the key that signed a cached token is still one
// the authorizer trusts: a key removed from the issuer or gone from a remote
// issuer's refetched JWKS stops its tokens at once, cached or not. For a
// known key this is a map lookup.
func (a *Authorizer) keyKnown(ctx context.Context, kid string) bool {
	_, err := a.base.Keys.VerificationKey(ctx, kid)
	return err == nil
}

// checkRevoked asks whether the token (or its family) was revoked; a
// checker that cannot answer fails closed.
func (a *Authorizer) checkRevoked(ctx context.Context, jti string) error {
	if a.revocations == nil {
		return nil
	}
	revoked, err := a.revocations.TokenRevoked(ctx, FamilyOf(jti), jti)
	if err != nil {
		return oauth.ErrTemporarilyUnavailable.WithCause(err)
	}
	if revoked {
		return errRevoked()
	}
	return nil
}

// errRevoked refuses a revoked token.
func errRevoked() error { return oauth.ErrInvalidToken.WithDescription("the token has been revoked") }

// asError turns an error that is not a token failure into an *oauth.Error:
// an *oauth.Error or a Code as is, a deadline or a remote issuer's keys that
// cannot be fetched (token.ErrKeysUnavailable) temporarily_unavailable,
// anything else server_error. The cause is kept for logs only.
func asError(err error) *oauth.Error {
	if e, ok := oauth.As(err); ok {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, token.ErrKeysUnavailable) {
		return oauth.ErrTemporarilyUnavailable.WithCause(err)
	}
	return oauth.ErrServerError.WithCause(err)
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
		JKT:       c.JKT,
		Claims:    c.Raw,
	}
}

// tokenErrorDescription gives the public reason a token was refused, naming
// the failed check but nothing of the issuer's keys or configuration.
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

// FamilyOf returns the token family a scopekit jti encodes
// ("<family>.<random>"), or "" for a token outside any family.
func FamilyOf(jti string) string {
	if i := strings.IndexByte(jti, '.'); i > 0 {
		return jti[:i]
	}
	return ""
}
