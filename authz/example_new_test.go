package authz_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// An issuer over the memory store: the API, the client and its grant are
// written through the admin layer, which validates them, and a
// client-credentials token is issued in-process, as POST /oauth/token would.
// The clock is fixed so that the token's times can be printed.
func ExampleNew() {
	ctx := context.Background()
	now := time.Date(2030, 1, 2, 15, 4, 5, 0, time.UTC)
	srv, err := authz.New(ctx, authz.Config{
		Issuer: "https://auth.example.com/",
		Store:  memory.New(),
		Grants: []authz.Grant{grant.ClientCredentials{}},
		Now:    func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}
	m := admin.New(srv)
	if err := m.CreateAPI(ctx, &storage.API{Identifier: "https://users.example.com", Name: "users",
		Scopes: []storage.Scope{{Name: "read:users"}, {Name: "write:users"}}}); err != nil {
		log.Fatal(err)
	}
	secret, err := m.CreateClient(ctx, &storage.Client{ID: "reporting", Name: "Reporting",
		GrantTypes: []string{oauth.GrantClientCredentials}})
	if err != nil {
		log.Fatal(err)
	}
	if err := m.CreateClientGrant(ctx, &storage.ClientGrant{ClientID: "reporting",
		Audience: "https://users.example.com", Scopes: []string{"read:users"}}); err != nil {
		log.Fatal(err)
	}

	resp, err := srv.Issue(ctx, &authz.TokenRequest{
		GrantType: oauth.GrantClientCredentials, ClientID: "reporting", ClientSecret: secret,
		AuthMethod: oauth.AuthBasic, Audience: "https://users.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	in, err := srv.Introspect(ctx, resp.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.TokenType, resp.ExpiresIn)
	fmt.Println(in.Subject, in.Scope)
	fmt.Println(time.Unix(in.ExpiresAt, 0).UTC())
	// Output:
	// Bearer 3600
	// reporting@clients read:users
	// 2030-01-02 16:04:05 +0000 UTC
}

// Rules run in the order of Config.Rules, each seeing what the ones before
// it changed: the second rule finds write:users already removed by the
// first. Server.Explain shows the outcome and, in order, what each rule did,
// without issuing anything.
func ExampleServer_Explain() {
	ctx := context.Background()
	readOnly := authz.Rule{Name: "read-only", Run: func(_ context.Context, t *authz.Transaction) error {
		t.RemoveScope("write:users")
		return nil
	}}
	tag := authz.Rule{Name: "tag", Run: func(_ context.Context, t *authz.Transaction) error {
		t.SetAccessTokenClaim("https://example.com/can_write", t.HasScope("write:users"))
		return nil
	}}
	srv, err := authz.New(ctx, authz.Config{
		Issuer: "https://auth.example.com/",
		Store:  memory.New(),
		Grants: []authz.Grant{grant.ClientCredentials{}},
		Rules:  []authz.Rule{readOnly, tag},
	})
	if err != nil {
		log.Fatal(err)
	}
	m := admin.New(srv)
	_ = m.CreateAPI(ctx, &storage.API{Identifier: "https://users.example.com",
		Scopes: []storage.Scope{{Name: "read:users"}, {Name: "write:users"}}})
	_, _ = m.CreateClient(ctx, &storage.Client{ID: "sync", GrantTypes: []string{oauth.GrantClientCredentials}})
	_ = m.CreateClientGrant(ctx, &storage.ClientGrant{ClientID: "sync",
		Audience: "https://users.example.com", Scopes: []string{"read:users", "write:users"}})

	ex, err := srv.Explain(ctx, authz.ExplainRequest{ClientID: "sync", Audience: "https://users.example.com"})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range ex.Trace {
		fmt.Println(e.Rule, e.Action, e.Target)
	}
	fmt.Println(ex.Scopes, ex.AccessToken["https://example.com/can_write"])
	// Output:
	// read-only scope_removed write:users
	// tag claim_added https://example.com/can_write
	// [read:users] false
}
