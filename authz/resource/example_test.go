package resource_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

const usersAPI = "https://users.example.com"

// newIssuer builds an issuer with the API users and a client granted
// read:users only, and returns a token of that client.
func newIssuer(ctx context.Context, issuer string) (*authz.Server, string) {
	srv, err := authz.New(ctx, authz.Config{Issuer: issuer, Store: memory.New(),
		Grants: []authz.Grant{grant.ClientCredentials{}}})
	if err != nil {
		log.Fatal(err)
	}
	m := admin.New(srv)
	if err := m.CreateAPI(ctx, &storage.API{Identifier: usersAPI,
		Scopes: []storage.Scope{{Name: "read:users"}, {Name: "write:users"}}}); err != nil {
		log.Fatal(err)
	}
	secret, err := m.CreateClient(ctx, &storage.Client{ID: "reporting", GrantTypes: []string{oauth.GrantClientCredentials}})
	if err != nil {
		log.Fatal(err)
	}
	if err := m.CreateClientGrant(ctx, &storage.ClientGrant{ClientID: "reporting", Audience: usersAPI,
		Scopes: []string{"read:users"}}); err != nil {
		log.Fatal(err)
	}
	resp, err := srv.Issue(ctx, &authz.TokenRequest{GrantType: oauth.GrantClientCredentials,
		ClientID: "reporting", ClientSecret: secret, AuthMethod: oauth.AuthBasic, Audience: usersAPI})
	if err != nil {
		log.Fatal(err)
	}
	return srv, resp.AccessToken
}

// The middleware lets a request through only with a valid token holding the
// scopes the route needs: 200 with read:users, 403 insufficient_scope for a
// route needing write:users, 401 without a token. The handler reads the
// verified Principal from the request context.
func ExampleAuthorizer_RequireScopes() {
	srv, tok := newIssuer(context.Background(), "https://auth.example.com/")
	users := srv.Authorizer(usersAPI)
	list := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := resource.PrincipalFrom(r.Context())
		fmt.Fprintln(w, "users for", p.Subject)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /users", users.RequireScopes("read:users")(list))
	mux.Handle("POST /users", users.RequireScopes("write:users")(list))

	for _, c := range []struct{ method, token string }{{"GET", tok}, {"POST", tok}, {"GET", ""}} {
		req := httptest.NewRequest(c.method, "/users", nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s %d %s", c.method, rec.Code, rec.Body)))
		if h := rec.Header().Get("WWW-Authenticate"); h != "" {
			fmt.Println("  WWW-Authenticate:", h)
		}
	}
	// Output:
	// GET 200 users for reporting@clients
	// POST 403 {"error":"insufficient_scope","error_description":"the token lacks a required scope"}
	//   WWW-Authenticate: Bearer realm="https://auth.example.com/", error="insufficient_scope", error_description="the token lacks a required scope", scope="write:users"
	// GET 401
	//   WWW-Authenticate: Bearer realm="https://auth.example.com/"
}

// An API in another process checks the issuer's tokens through its
// discovery document and JWKS. Here the issuer is an httptest server built
// from package authz; NewRemote needs only its URL.
func ExampleNewRemote() {
	ctx := context.Background()
	var issuer http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { issuer.ServeHTTP(w, r) }))
	defer ts.Close()
	srv, tok := newIssuer(ctx, ts.URL+"/")
	issuer = srv.Handler()

	api, err := resource.NewRemote(ctx, resource.RemoteConfig{Issuer: ts.URL + "/", Audience: usersAPI})
	if err != nil {
		log.Fatal(err)
	}
	p, err := api.Authorize(ctx, tok, resource.Requirement{AllOf: []string{"read:users"}})
	fmt.Println(p.Subject, p.ClientID, err)
	_, err = api.Authorize(ctx, tok, resource.Requirement{AllOf: []string{"write:users"}})
	fmt.Println(err)
	_, err = api.Authorize(ctx, tok+"x", resource.Requirement{})
	fmt.Println(err)
	// Output:
	// reporting@clients reporting <nil>
	// oauth: insufficient_scope: the token lacks a required scope
	// oauth: invalid_token: the token is malformed or its signature is invalid
}
