package grant

import (
	"context"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
)

// AuthorizationCode is the authorization code grant (RFC 6749 §4.1.3) with
// PKCE (RFC 7636). Registering it enables /authorize (with Config.Login).
// A code is single use: a second exchange is invalid_grant and revokes every
// token issued from the first (RFC 6749 §4.1.2), also after the code's
// lifetime, as long as the store retains its used marker (RetainUntil). It is bound to the client,
// the redirect URI and the PKCE challenge. A retry of the first exchange by
// the same client with the same verifier within authz.Config.RetryWindow
// gets the same tokens instead (Codes.Redeem).
type AuthorizationCode struct{}

// GrantType implements authz.Grant.
func (AuthorizationCode) GrantType() string { return "authorization_code" }

// Capabilities implements authz.Capable: the grant redeems /authorize's codes.
func (AuthorizationCode) Capabilities() authz.Capabilities {
	return authz.Capabilities{AuthorizationEndpoint: true}
}

// Decide implements authz.Grant.
func (AuthorizationCode) Decide(ctx context.Context, x *authz.Exchange) (*authz.Decision, error) {
	req := x.Request
	if req.Code == "" {
		return nil, oauth.ErrInvalidRequest.WithDescription("code is required")
	}
	if req.CodeVerifier != "" && len(req.CodeVerifier) > 128 {
		return nil, oauth.ErrInvalidGrant.WithDescription("invalid code_verifier")
	}
	code, err := x.Codes.Redeem(ctx, req.Code)
	if err != nil {
		return nil, err
	}
	if code.ClientID != x.Client.ID {
		return nil, oauth.ErrInvalidGrant.WithDescription("the code was issued to another client")
	}
	// RFC 6749 §4.1.3: redirect_uri is required when the authorization
	// request included it, and must then be identical; when it did not (the
	// client's single registered URI was used), it may be omitted.
	switch {
	case req.RedirectURI == "" && code.RedirectURIExplicit:
		return nil, oauth.ErrInvalidGrant.WithDescription("redirect_uri is required: the authorization request included it")
	case req.RedirectURI != "" && req.RedirectURI != code.RedirectURI:
		return nil, oauth.ErrInvalidGrant.WithDescription("redirect_uri does not match the authorization request")
	}
	switch {
	case code.CodeChallenge == "" && req.CodeVerifier != "":
		// RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
		return nil, oauth.ErrInvalidGrant.WithDescription("code_verifier sent but no code_challenge was")
	case code.CodeChallenge != "" && !oauth.VerifyPKCE(code.CodeChallenge, req.CodeVerifier):
		return nil, oauth.ErrInvalidGrant.WithDescription("PKCE verification failed")
	}
	user, err := x.Directory.User(ctx, code.Subject)
	if err != nil {
		return nil, err
	}
	d := &authz.Decision{
		Trigger:         authz.TriggerLogin,
		GrantType:       "authorization_code",
		Subject:         user.ID,
		User:            user,
		RequestedScopes: code.RequestedScopes,
		Scopes:          code.Scopes,
		Family:          code.Family,
		AuthTime:        code.AuthTime,
		Nonce:           code.Nonce,
		Claims:          code.IDTokenClaims,
		AccessClaims:    code.AccessTokenClaims,
	}
	if code.Audience != "" {
		if d.API, err = x.Directory.API(ctx, code.Audience); err != nil {
			return nil, err
		}
	}
	d.IssueRefresh = x.Policy.OfflineAccess(x.Client, d.API, d.Scopes)
	return d, nil
}
