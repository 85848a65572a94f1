package authz

import (
	"context"
	"net/http"

	"github.com/scopekit/scopekit/authz/resource"
)

// Authorizer returns an in-process Authorizer of this server's tokens for
// the API audience (empty means Config.DefaultAudience). It uses the
// server's keys and refuses tokens revoked in its store; a store that cannot
// answer fails closed (503 temporarily_unavailable). Revoking through the
// server or removing a key drops the tokens it cached.
func (s *Server) Authorizer(audience string) *resource.Authorizer {
	if audience == "" {
		audience = s.cfg.DefaultAudience
	}
	return resource.New(resource.Config{
		Verifier:     *s.verifier(audience),
		Realm:        s.cfg.Realm,
		Revocations:  s.revocationChecker(),
		Cache:        s.cache,
		MaxBodyBytes: s.cfg.MaxBodyBytes,
		DPoPWindow:   s.cfg.DPoPProofWindow,
		DPoPReplay:   s.store,
		Opaque:       s.resolveOpaque,
	})
}

// Authorize verifies a bearer token of this server and checks the
// requirement (RFC 6750). Requirement.Audience defaults to
// Config.DefaultAudience.
func (s *Server) Authorize(ctx context.Context, raw string, req resource.Requirement) (*resource.Principal, error) {
	return s.defaultAuthorizer.Authorize(ctx, raw, req)
}

// RequireScopes is Server.Authorizer("").RequireScopes: middleware for the
// default audience.
func (s *Server) RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	return s.defaultAuthorizer.RequireScopes(scopes...)
}
