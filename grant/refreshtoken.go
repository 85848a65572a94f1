package grant

import (
	"context"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
)

// RefreshToken is the refresh token grant (RFC 6749 §6). Refresh tokens are
// rotated on every use; a rotated token used again revokes its whole family
// (RFC 9700 §4.14.2), unless it is a retry of the rotation by the same
// client within authz.Config.RetryWindow, answered with the same new token
// (Families.Continue). A token is bound to its client; the scope may be
// narrowed, never widened. Every refresh decides again (Policy.Redecide):
// scopes the API no longer defines, the user no longer holds or no longer
// consents to are dropped; a deleted user or API, a withdrawn consent or
// offline access no longer allowed is invalid_grant.
type RefreshToken struct{}

// GrantType implements authz.Grant.
func (RefreshToken) GrantType() string { return "refresh_token" }

// Capabilities implements authz.Capable: the grant redeems refresh tokens.
func (RefreshToken) Capabilities() authz.Capabilities {
	return authz.Capabilities{RefreshTokens: true}
}

// Decide implements authz.Grant.
func (RefreshToken) Decide(ctx context.Context, x *authz.Exchange) (*authz.Decision, error) {
	raw := x.Request.RefreshToken
	if raw == "" {
		return nil, oauth.ErrInvalidRequest.WithDescription("refresh_token is required")
	}
	cont, err := x.Families.Continue(ctx, x.Client, raw)
	if err != nil {
		return nil, err
	}
	original := cont.Scopes()
	for _, s := range x.Request.Scopes {
		if !contains(original, s) {
			return nil, oauth.ErrInvalidScope.WithDescription("scope " + s + " was not granted originally")
		}
	}
	// Decide again: what the API, the user's permissions and the consent
	// still allow of the original grant.
	allowed, consented, err := x.Policy.Redecide(ctx, x.Client, cont)
	if err != nil {
		return nil, err
	}
	if !x.Policy.OfflineAccess(x.Client, cont.API(), allowed) {
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
	d := &authz.Decision{
		Trigger:   authz.TriggerRefresh,
		GrantType: "refresh_token",
		Subject:   cont.User().ID,
		User:      cont.User(),
		API:       cont.API(),
		// Without a scope parameter the request is for the original
		// grant, so the response names the scope when what is left
		// differs from it (RFC 6749 §5.1).
		RequestedScopes: x.Request.Scopes,
		// Narrowing by the request applies to the access token only: the
		// continuation keeps what is left for the next refresh token
		// (RFC 6749 §6).
		Scopes:       scopes,
		Continuation: cont,
		AuthTime:     cont.AuthTime(),
		Claims:       cont.Claims(),
		IssueRefresh: true,
	}
	if consented {
		d.ConsentedScopes = append([]string{}, allowed...)
	}
	if d.RequestedScopes == nil {
		d.RequestedScopes = original
	}
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
