// Command claims reproduces the custom-claims story of Auth0 Rules in Go: a
// rule adds favorite_color (a profile attribute from the identity provider,
// kept in app_metadata) and preferred_contact
// (from user_metadata) under https://myapp.example.com/ to the ID token; a
// rule limits API scopes by the user's role; a rule adds a claim to
// client-credentials tokens. It prints what each issuance would mint and
// what every rule changed, using Server.Explain.
//
//	go run ./examples/claims
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

const (
	namespace   = "https://myapp.example.com/"
	contactsAPI = "https://contacts.example.com"
)

// addProfileClaims is the seed's sample rule, in Go. In the seed,
// favorite_color is an attribute of the user's profile returned by the
// identity provider (user.favorite_color) and preferred_contact is in
// user_metadata. A storage.User has only the OIDC standard profile fields,
// so a profile attribute such as favorite_color that the host application
// imports from its identity provider is kept in app_metadata, which the
// user cannot edit (user_metadata is the user's own). The rule reads it
// there; the tokens are the seed's.
var addProfileClaims = authz.Rule{Name: "add-profile-claims", Run: func(_ context.Context, t *authz.Transaction) error {
	if t.User == nil {
		return nil
	}
	t.SetIDTokenClaim(namespace+"favorite_color", t.User.AppMetadata["favorite_color"])
	t.SetIDTokenClaim(namespace+"preferred_contact", t.User.UserMetadata["preferred_contact"])
	return nil
}}

// limitScopesByRole keeps delete:contacts for users whose app_metadata
// gives them the admin role.
var limitScopesByRole = authz.Rule{Name: "limit-scopes-by-role", Run: func(_ context.Context, t *authz.Transaction) error {
	if t.User != nil && t.User.AppMetadata["role"] != "admin" {
		t.RemoveScope("delete:contacts")
	}
	return nil
}}

// tagMachineTokens marks client-credentials tokens with the calling service.
var tagMachineTokens = authz.Rule{Name: "tag-machine-tokens", Run: func(_ context.Context, t *authz.Transaction) error {
	if t.Trigger == authz.TriggerClientCredentials {
		t.SetAccessTokenClaim(namespace+"service", t.Client.Name)
	}
	return nil
}}

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// setup builds the issuer with the three rules, the seed's user jane
// (custom|123), an app and a machine client.
func setup(ctx context.Context) (*authz.Server, error) {
	store := memory.New()
	srv, err := authz.New(ctx, authz.Config{
		Issuer: "https://auth.example.com/",
		Store:  store,
		Grants: []authz.Grant{grant.ClientCredentials{}, grant.AuthorizationCode{}},
		Rules:  []authz.Rule{addProfileClaims, limitScopesByRole, tagMachineTokens},
	})
	if err != nil {
		return nil, err
	}
	steps := []error{
		store.APIs().Create(ctx, &storage.API{Identifier: contactsAPI, Name: "Contacts",
			Scopes: []storage.Scope{{Name: "read:contacts"}, {Name: "delete:contacts"}}}),
		// favorite_color is the seed's profile attribute from the identity
		// provider, stored in app_metadata (see addProfileClaims).
		store.Users().Create(ctx, &storage.User{ID: "custom|123", Email: "jane@example.com", EmailVerified: true,
			AppMetadata:  map[string]any{"favorite_color": "blue", "role": "member"},
			UserMetadata: map[string]any{"preferred_contact": "email"}}),
		store.Clients().Create(ctx, &storage.Client{ID: "my-app", Name: "My App", FirstParty: true,
			RedirectURIs: []string{"https://app.example.com/callback"}, GrantTypes: []string{"authorization_code"}}),
		store.Clients().Create(ctx, &storage.Client{ID: "sync-service", Name: "Contacts sync", GrantTypes: []string{"client_credentials"}}),
		store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "sync-service", Audience: contactsAPI, Scopes: []string{"read:contacts"}}),
	}
	for _, err := range steps {
		if err != nil {
			return nil, err
		}
	}
	return srv, nil
}

func run(ctx context.Context, w io.Writer) error {
	srv, err := setup(ctx)
	if err != nil {
		return err
	}
	for _, req := range []authz.ExplainRequest{
		{ClientID: "my-app", UserID: "custom|123", Audience: contactsAPI,
			Scopes: []string{"openid", "profile", "email", "read:contacts", "delete:contacts"}},
		{ClientID: "sync-service", Audience: contactsAPI},
	} {
		ex, err := srv.Explain(ctx, req)
		if err != nil {
			return err
		}
		for _, k := range []string{"iat", "exp", "jti", "auth_time"} {
			delete(ex.AccessToken, k)
			delete(ex.IDToken, k)
		}
		out, err := json.MarshalIndent(ex, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "# %s, client %s\n%s\n", ex.Trigger, req.ClientID, out)
	}
	return nil
}
