package grant

import (
	"context"
	"errors"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// AuthorizationCode is the authorization code grant (RFC 6749 §4.1.3) with
// PKCE (RFC 7636). Registering it enables /authorize (with Config.Login).
// A code is single use: a second exchange is invalid_grant and revokes every
// token issued from the first (RFC 6749 §4.1.2), also after the code's
// lifetime, as long as the store retains its used marker (RetainUntil). It is bound to the client,
// the redirect URI and the PKCE challenge.
type AuthorizationCode struct{}

// GrantType implements authz.Grant.
func (AuthorizationCode) GrantType() string { return "authorization_code" }

// Decide implements authz.Grant.
func (AuthorizationCode) Decide(ctx context.Context, x *authz.Exchange) (*authz.Decision, error) {
	req := x.Request
	if req.Code == "" {
		return nil, oauth.ErrInvalidRequest.WithDescription("code is required")
	}
	if req.CodeVerifier != "" && len(req.CodeVerifier) > 128 {
		return nil, oauth.ErrInvalidGrant.WithDescription("invalid code_verifier")
	}
	store := x.Server.Store()
	code, err := store.ConsumeCode(ctx, token.Hash(req.Code))
	switch {
	case errors.Is(err, storage.ErrAlreadyUsed):
		// The family may not exist yet when the first exchange is still
		// running: the store then records the revocation so that the
		// first exchange's CreateFamily fails (mint answers invalid_grant).
		// A failure is the store's and is answered as such rather than
		// leaving tokens live.
		if rerr := store.RevokeFamily(ctx, code.Family); rerr != nil {
			return nil, rerr
		}
		return nil, oauth.ErrInvalidGrant.WithDescription("the code was already used: its tokens are revoked")
	case errors.Is(err, storage.ErrNotFound):
		return nil, oauth.ErrInvalidGrant.WithDescription("invalid or expired code")
	case err != nil:
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
	d, err := userDecision(ctx, x.Server, code.Subject, code.Audience)
	if err != nil {
		return nil, err
	}
	d.Trigger = authz.TriggerLogin
	d.GrantType = "authorization_code"
	d.RequestedScopes = code.RequestedScopes
	d.Scopes = code.Scopes
	d.Family = code.Family
	d.AuthTime = code.AuthTime
	d.Nonce = code.Nonce
	d.Claims, d.AccessClaims = authz.CodeClaims(code)
	d.IssueRefresh = offline(x.Client, d.API, d.Scopes)
	return d, nil
}

// userDecision loads the user and API a user grant issues for.
func userDecision(ctx context.Context, srv *authz.Server, subject, audience string) (*authz.Decision, error) {
	store := srv.Store()
	user, err := store.Users().Get(ctx, subject)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oauth.ErrInvalidGrant.WithDescription("the user no longer exists")
	}
	if err != nil {
		return nil, err
	}
	d := &authz.Decision{Subject: user.ID, User: user}
	if audience != "" {
		if d.API, err = store.APIs().Get(ctx, audience); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return nil, oauth.ErrInvalidGrant.WithDescription("the API no longer exists")
			}
			return nil, err
		}
	}
	return d, nil
}

// offline reports whether a refresh token is issued: offline_access granted,
// the client allowed the refresh_token grant, and the API allows it.
func offline(c *storage.Client, api *storage.API, scopes []string) bool {
	return contains(scopes, oauth.ScopeOfflineAccess) && contains(c.GrantTypes, "refresh_token") &&
		(api == nil || api.AllowOfflineAccess)
}
