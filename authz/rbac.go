package authz

import (
	"context"
	"errors"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// Permissions returns the user's effective permissions for the API: the
// union of the scopes that the user's roles grant, whether assigned directly
// or through a group. Roles and groups that no longer exist are skipped.
func (s *Server) Permissions(ctx context.Context, user *storage.User, audience string) ([]string, error) {
	roleIDs := append([]string(nil), user.Roles...)
	for _, gid := range user.Groups {
		g, err := s.store.Groups().Get(ctx, gid)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		roleIDs = append(roleIDs, g.Roles...)
	}
	var out []string
	seen := map[string]bool{}
	for _, rid := range roleIDs {
		if seen[rid] {
			continue
		}
		seen[rid] = true
		role, err := s.store.Roles().Get(ctx, rid)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, p := range role.Permissions {
			if p.Audience == audience && !contains(out, p.Scope) {
				out = append(out, p.Scope)
			}
		}
	}
	return out, nil
}

// identityScopes describes the OIDC scopes on the consent page.
var identityScopes = map[string]string{
	oauth.ScopeOpenID:        "Sign you in",
	oauth.ScopeProfile:       "Read your basic profile: name, nickname and picture",
	oauth.ScopeEmail:         "Read your email address",
	oauth.ScopeAddress:       "Read your postal address",
	oauth.ScopePhone:         "Read your phone number",
	oauth.ScopeOfflineAccess: "Keep access while you are away (refresh tokens)",
}

// userScopes decides what a user-facing grant may get before consent: OIDC
// scopes pass (offline_access only where refresh tokens are allowed); API
// scopes must be defined by the API and, under EnforceRBAC, held by the user.
// It returns the candidates and the user's permissions for the API.
func (s *Server) userScopes(ctx context.Context, c *storage.Client, api *storage.API, user *storage.User, requested []string) (granted, perms []string, err error) {
	if api != nil && (api.EnforceRBAC || api.AddPermissionsClaim) {
		if perms, err = s.Permissions(ctx, user, api.Identifier); err != nil {
			return nil, nil, err
		}
	}
	for _, sc := range requested {
		switch {
		case sc == oauth.ScopeOfflineAccess:
			if s.offlineAllowed(c, api) {
				granted = append(granted, sc)
			}
		case identityScopes[sc] != "":
			granted = append(granted, sc)
		case api == nil || !api.HasScope(sc):
		case api.EnforceRBAC && !contains(perms, sc):
		default:
			granted = append(granted, sc)
		}
	}
	return granted, perms, nil
}

// refreshScopes is Policy.Redecide on the grant's parties: of scopes (the
// refresh token's), it keeps what userScopes would offer now and, where
// consent applies, what the user's stored consent still covers.
// consentStillGiven decides again, at the exchange of a code (or a device
// code), what /authorize decided: where consent applies, the user's stored
// consent must still cover every scope granted then. A consent withdrawn or
// narrowed in between (RevokeConsent while the code was in flight) is
// invalid_grant, so no family is created for it.
func (s *Server) consentStillGiven(ctx context.Context, c *storage.Client, d *Decision) error {
	if d.User == nil || !consentApplies(c, d.API) {
		return nil
	}
	aud := ""
	if d.API != nil {
		aud = d.API.Identifier
	}
	consent, err := s.store.Consents().Get(ctx, storage.JoinKey(d.User.ID, c.ID, s.consentAudience(aud)))
	if errors.Is(err, storage.ErrNotFound) {
		return oauth.ErrInvalidGrant.WithDescription("the user withdrew consent to this client")
	}
	if err != nil {
		return err
	}
	for _, sc := range d.Scopes {
		if sc != oauth.ScopeOpenID && !contains(consent.Scopes, sc) {
			return oauth.ErrInvalidGrant.WithDescription("the user's consent changed since the authorization")
		}
	}
	return nil
}

func (s *Server) refreshScopes(ctx context.Context, c *storage.Client, api *storage.API, user *storage.User, scopes []string) (kept []string, consented bool, err error) {
	kept, _, err = s.userScopes(ctx, c, api, user, scopes)
	if err != nil || !consentApplies(c, api) {
		return kept, false, err
	}
	aud := ""
	if api != nil {
		aud = api.Identifier
	}
	consent, err := s.store.Consents().Get(ctx, storage.JoinKey(user.ID, c.ID, s.consentAudience(aud)))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, false, oauth.ErrInvalidGrant.WithDescription("the user withdrew consent to this client")
	}
	if err != nil {
		return nil, false, err
	}
	out := make([]string, 0, len(kept))
	for _, sc := range kept {
		if sc == oauth.ScopeOpenID || contains(consent.Scopes, sc) {
			out = append(out, sc)
		}
	}
	return out, true, nil
}
