package grant

import (
	"context"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// ClientCredentials is the client credentials grant (RFC 6749 §4.4): a
// confidential client gets an access token for an API in its own name. The
// scopes granted are the requested ones that its client grant for the API
// allows; no "scope" parameter asks for all of them. There is no user and no
// consent.
type ClientCredentials struct{}

// GrantType implements authz.Grant.
func (ClientCredentials) GrantType() string { return "client_credentials" }

// Decide implements authz.Grant.
func (ClientCredentials) Decide(_ context.Context, x *authz.Exchange) (*authz.Decision, error) {
	if x.Client.Public {
		return nil, oauth.ErrUnauthorizedClient.WithDescription("public clients cannot use client_credentials")
	}
	if x.Audience == "" {
		return nil, oauth.ErrInvalidRequest.WithDescription("audience is required")
	}
	if x.API == nil {
		return nil, oauth.ErrInvalidTarget.WithDescription("unknown audience")
	}
	if x.ClientGrant == nil {
		return nil, oauth.ErrUnauthorizedClient.WithDescription("the client has no grant for this audience")
	}
	requested := x.Request.Scopes
	for _, s := range requested {
		if !x.API.HasScope(s) {
			return nil, oauth.ErrInvalidScope.WithDescription("scope " + s + " is not defined by the API")
		}
	}
	granted := authz.Restrict(requested, x.ClientGrant.Scopes, x.API)
	if len(granted) == 0 && (len(requested) > 0 || len(x.ClientGrant.Scopes) > 0) {
		return nil, oauth.ErrInvalidScope.WithDescription("none of the requested scopes is granted to the client")
	}
	return &authz.Decision{
		Trigger:         authz.TriggerClientCredentials,
		GrantType:       "client-credentials",
		Subject:         storage.MachineSubject(x.Client.ID),
		API:             x.API,
		RequestedScopes: requested,
		Scopes:          granted,
	}, nil
}
