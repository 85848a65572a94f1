package grant

import (
	"context"
	"errors"
	"strings"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// RefreshToken is the refresh token grant (RFC 6749 §6). Refresh tokens are
// rotated on every use; a rotated token used again revokes its whole family
// (RFC 9700 §4.14.2). A token is bound to its client; the scope may be
// narrowed, never widened. Every refresh decides again (Server.RefreshScopes):
// scopes the API no longer defines, the user no longer holds or no longer
// consents to are dropped; a deleted user or API, a withdrawn consent or
// offline access no longer allowed is invalid_grant.
type RefreshToken struct{}

// GrantType implements authz.Grant.
func (RefreshToken) GrantType() string { return "refresh_token" }

// Decide implements authz.Grant.
func (RefreshToken) Decide(ctx context.Context, x *authz.Exchange) (*authz.Decision, error) {
	raw := x.Request.RefreshToken
	if raw == "" {
		return nil, oauth.ErrInvalidRequest.WithDescription("refresh_token is required")
	}
	family, _, ok := strings.Cut(raw, ".")
	if !ok || family == "" || len(raw) > 512 {
		return nil, oauth.ErrInvalidGrant.WithDescription("invalid refresh token")
	}
	store := x.Server.Store()
	hash := token.Hash(raw)
	rt, err := store.GetRefresh(ctx, family, hash)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrRevoked):
		return nil, oauth.ErrInvalidGrant.WithDescription("invalid refresh token")
	case err != nil:
		return nil, err
	}
	if rt.ClientID != x.Client.ID {
		return nil, oauth.ErrInvalidGrant.WithDescription("the refresh token was issued to another client")
	}
	if rt.Used {
		if rerr := store.RevokeFamily(ctx, family); rerr != nil {
			return nil, rerr
		}
		return nil, oauth.ErrInvalidGrant.WithDescription("refresh token reused: the grant is revoked")
	}
	for _, s := range x.Request.Scopes {
		if !contains(rt.Scopes, s) {
			return nil, oauth.ErrInvalidScope.WithDescription("scope " + s + " was not granted originally")
		}
	}
	fam, err := store.GetFamily(ctx, family)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, oauth.ErrInvalidGrant.WithDescription("invalid refresh token")
		}
		return nil, err
	}
	d, err := userDecision(ctx, x.Server, rt.Subject, rt.Audience)
	if err != nil {
		return nil, err
	}
	// Decide again: what the API, the user's permissions and the consent
	// still allow of the original grant.
	allowed, consented, err := x.Server.RefreshScopes(ctx, x.Client, d.API, d.User, rt.Scopes)
	if err != nil {
		return nil, err
	}
	if consented {
		d.ConsentedScopes = append([]string{}, allowed...)
	}
	if !offline(x.Client, d.API, allowed) {
		return nil, oauth.ErrInvalidGrant.WithDescription("offline access is no longer granted")
	}
	scopes := allowed
	if x.Request.Scopes != nil {
		scopes = make([]string, 0, len(x.Request.Scopes))
		for _, s := range x.Request.Scopes {
			if contains(allowed, s) {
				scopes = append(scopes, s)
			}
		}
	}
	d.Trigger = authz.TriggerRefresh
	d.GrantType = "refresh_token"
	// Without a scope parameter the request is for the original grant, so
	// the response names the scope when what is left differs from it
	// (RFC 6749 §5.1).
	d.RequestedScopes = x.Request.Scopes
	if d.RequestedScopes == nil {
		d.RequestedScopes = append([]string{}, rt.Scopes...)
	}
	d.Scopes = scopes
	// Narrowing by the request applies to the access token only: the new
	// refresh token keeps what is left of the one it replaces (RFC 6749 §6).
	d.RefreshScopes = append([]string{}, allowed...)
	d.Family = family
	d.FamilyExpiresAt = fam.ExpiresAt
	d.AuthTime = fam.AuthTime
	d.Claims = fam.Claims
	d.IssueRefresh = true
	d.RotateRefresh = hash
	return d, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
