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

// Capabilities implements authz.Capable: the grant issues a client's own
// tokens.
func (ClientCredentials) Capabilities() authz.Capabilities {
	return authz.Capabilities{ClientTokens: true}
}

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
	granted := restrict(requested, x.ClientGrant.Scopes, x.API)
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

// restrict returns the scopes of requested that allowed holds and the API
// defines, in request order, without duplicates. A nil requested (no "scope"
// parameter) asks for every scope allowed holds that the API defines. It runs
// in time linear in len(requested)+len(allowed) (plus the API's lookups).
func restrict(requested, allowed []string, api *storage.API) []string {
	if requested == nil {
		requested = allowed
	}
	ok := make(map[string]struct{}, len(allowed))
	for _, s := range allowed {
		ok[s] = struct{}{}
	}
	out := make([]string, 0, min(len(requested), len(allowed)))
	for _, s := range requested {
		if _, in := ok[s]; in && api.HasScope(s) {
			delete(ok, s) // taken: a repeat is dropped
			out = append(out, s)
		}
	}
	return out
}
