package authz_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// exampleServer builds an issuer with an API and a machine client granted
// read:users, the story of the quickstart, written through the admin layer.
func exampleServer() (*authz.Server, string) {
	ctx := context.Background()
	srv, err := authz.New(ctx, authz.Config{
		Issuer: "https://auth.example.com/",
		Store:  memory.New(),
		Grants: []authz.Grant{grant.ClientCredentials{}},
	})
	if err != nil {
		log.Fatal(err)
	}
	m := admin.New(srv)
	if err := m.CreateAPI(ctx, &storage.API{
		Identifier: "https://users.example.com", Name: "users",
		Scopes: []storage.Scope{{Name: "read:users"}, {Name: "write:users"}},
	}); err != nil {
		log.Fatal(err)
	}
	secret, err := m.CreateClient(ctx, &storage.Client{ID: "reporting", GrantTypes: []string{oauth.GrantClientCredentials}})
	if err != nil {
		log.Fatal(err)
	}
	if err := m.CreateClientGrant(ctx, &storage.ClientGrant{
		ClientID: "reporting", Audience: "https://users.example.com", Scopes: []string{"read:users"},
	}); err != nil {
		log.Fatal(err)
	}
	return srv, secret
}

func ExampleServer_Issue() {
	srv, secret := exampleServer()
	resp, err := srv.Issue(context.Background(), &authz.TokenRequest{
		GrantType: "client_credentials", ClientID: "reporting", ClientSecret: secret,
		AuthMethod: oauth.AuthBasic, Audience: "https://users.example.com",
		Scopes: []string{"read:users", "write:users"},
	})
	if err != nil {
		log.Fatal(err)
	}
	// The client grant allows read:users only: the response says so.
	fmt.Println(resp.TokenType, resp.ExpiresIn, resp.Scope)
	// Output: Bearer 3600 read:users
}

func ExampleServer_Introspect() {
	srv, secret := exampleServer()
	ctx := context.Background()
	resp, _ := srv.Issue(ctx, &authz.TokenRequest{
		GrantType: "client_credentials", ClientID: "reporting", ClientSecret: secret,
		AuthMethod: oauth.AuthBasic, Audience: "https://users.example.com",
	})
	in, err := srv.Introspect(ctx, resp.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(in.Active, in.ClientID, in.Scope, in.Subject)
	_ = srv.Revoke(ctx, "reporting", resp.AccessToken)
	in, _ = srv.Introspect(ctx, resp.AccessToken)
	fmt.Println(in.Active)
	// Output:
	// true reporting read:users reporting@clients
	// false
}

func ExampleServer_Authorize() {
	srv, secret := exampleServer()
	ctx := context.Background()
	resp, _ := srv.Issue(ctx, &authz.TokenRequest{
		GrantType: "client_credentials", ClientID: "reporting", ClientSecret: secret,
		AuthMethod: oauth.AuthBasic, Audience: "https://users.example.com",
	})
	p, err := srv.Authorize(ctx, resp.AccessToken, resource.Requirement{
		Audience: "https://users.example.com", AllOf: []string{"read:users"},
	})
	fmt.Println(p.Subject, err)
	_, err = srv.Authorize(ctx, resp.AccessToken, resource.Requirement{
		Audience: "https://users.example.com", AllOf: []string{"write:users"},
	})
	fmt.Println(err)
	// Output:
	// reporting@clients <nil>
	// oauth: insufficient_scope: the token lacks a required scope
}
