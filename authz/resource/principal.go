package resource

import (
	"context"
	"strings"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
)

// Requirement is what an API demands of a bearer token.
type Requirement struct {
	// Audience is the API identifier the token must be issued for. Empty
	// means the authorizer's own audience.
	Audience string
	// AllOf lists scopes the token must all hold.
	AllOf []string
	// AnyOf lists scopes of which the token must hold at least one.
	AnyOf []string
}

// Principal is what a verified access token says: who calls, through which
// client, with which scopes. Handlers behind the middleware read it with
// PrincipalFrom.
//
// A Principal is read-only. The verified-token cache hands the same value to
// every request presenting the same token, concurrently, so that a repeat
// Authorize costs no allocation: modifying a field, the Audience slice or
// the Claims map is a data race with those requests. A modification does not
// leak into authorization (the cache notices it, drops the entry and
// verifies the token afresh), but copy the value (and the maps or slices you
// change) before changing it.
type Principal struct {
	// Subject is the "sub" claim: a user id, or "<client_id>@clients" for a
	// client-credentials token.
	Subject string
	// ClientID is the client the token was issued to.
	ClientID string
	// Scope is the space-separated "scope" claim.
	Scope string
	// Audience is the "aud" claim.
	Audience []string
	// JTI is the token identifier.
	JTI string
	// IssuedAt and ExpiresAt bound the token's validity.
	IssuedAt, ExpiresAt time.Time
	// JKT is the thumbprint of the DPoP key the token is bound to (cnf.jkt,
	// RFC 9449 §6.1); empty for a bearer token.
	JKT string
	// Claims holds every claim of the token, custom ones included. It is
	// shared: read it, never write to it.
	Claims map[string]any
}

// HasScope reports whether the principal's token holds the scope. It does
// not allocate.
func (p *Principal) HasScope(scope string) bool { return oauth.ScopeHas(p.Scope, scope) }

// Scopes returns the token's scopes.
func (p *Principal) Scopes() []string { return strings.Fields(p.Scope) }

// check verifies the requirement's scopes against the principal, returning
// insufficient_scope naming what is missing (RFC 6750 §3.1).
func (p *Principal) check(req Requirement) error {
	var missing []string
	for _, s := range req.AllOf {
		if !p.HasScope(s) {
			missing = append(missing, s)
		}
	}
	if len(req.AnyOf) > 0 {
		found := false
		for _, s := range req.AnyOf {
			if p.HasScope(s) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, req.AnyOf...)
		}
	}
	if missing == nil {
		return nil
	}
	e := oauth.ErrInsufficientScope.WithDescription("the token lacks a required scope")
	e.Scope = oauth.FormatScope(missing)
	return e
}

type principalKey struct{}

// WithPrincipal returns a context carrying the principal.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal the middleware verified for the request.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok
}
