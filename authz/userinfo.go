package authz

import (
	"context"
	"errors"
	"net/http"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
)

// serveUserinfo is the UserInfo endpoint (OIDC Core §5.3): GET or POST with
// a bearer access token whose scope holds openid. It returns the standard
// claims the token's scopes release for its subject, and the custom claims
// decided at login for the token's family, without running rules again.
func (s *Server) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	a := s.userinfoAuthorizer
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	p, ok := a.AuthorizeRequest(w, r, resource.Requirement{AllOf: []string{oauth.ScopeOpenID}})
	if !ok {
		return
	}
	if r.Header.Get("Origin") != "" {
		// The token names its client: it decides which origins may read.
		c, err := s.store.Clients().Get(r.Context(), p.ClientID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			a.Challenge(w, AsError(err))
			return
		}
		allowOrigin(w, r, c)
	}
	claims, err := s.Userinfo(r.Context(), p)
	if err != nil {
		a.Challenge(w, AsError(err))
		return
	}
	writeJSON(w, http.StatusOK, claims)
}

// Userinfo returns the claims /userinfo answers (OIDC Core §5.3.2) for a
// principal that an Authorizer of this server verified: the standard claims
// its scopes release for its subject and the custom claims decided at login
// for its token family. ctx bounds the store reads. A user or family gone
// since the token was issued is oauth.ErrInvalidToken.
func (s *Server) Userinfo(ctx context.Context, p *resource.Principal) (map[string]any, error) {
	user, err := s.store.Users().Get(ctx, p.Subject)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oauth.ErrInvalidToken.WithDescription("the user no longer exists")
	}
	if err != nil {
		return nil, err
	}
	claims := UserClaims(user, p.Scopes())
	if fam := resource.FamilyOf(p.JTI); fam != "" {
		f, err := s.store.GetFamily(ctx, fam)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return nil, err
		case f.Revoked:
			return nil, oauth.ErrInvalidToken.WithDescription("the token has been revoked")
		default:
			for k, v := range f.Claims {
				claims[k] = v
			}
		}
	}
	claims["sub"] = user.ID
	return claims, nil
}
