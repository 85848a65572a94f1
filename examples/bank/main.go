// Command bank is the third-party story: a payment application (not written
// by the bank) asks for read:balance and transfer:funds on the bank's API.
// The user sees a consent page, may untick a scope, and the token carries
// exactly what was allowed.
//
// The payment app runs on its own origin (another port), as a third-party
// application does: the consent answer is a redirect to another site.
//
//	go run ./examples/bank   # then open http://127.0.0.1:8081/app
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/examples/internal/demo"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

const bankAPI = "https://bank.example.com"

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "issuer listen address")
	appAddr := flag.String("app-addr", "127.0.0.1:8081", "payment app listen address (another origin)")
	flag.Parse()
	log.Fatal(demo.ListenAndServePair(*addr, *appAddr, func(issuer, appURL string) (http.Handler, http.Handler, string, error) {
		ih, ah, _, err := build(context.Background(), issuer, appURL)
		return ih, ah, fmt.Sprintf("issuer: %s\npayment app: %s\nopen %sapp and sign in as jane", issuer, appURL, appURL), err
	}))
}

// build sets up the story: the bank API, the third-party payment app (a
// confidential client, served at appURL: another origin than the issuer),
// a user, and the demo login. It returns the issuer's handler and the app's.
func build(ctx context.Context, issuer, appURL string) (http.Handler, http.Handler, *demo.App, error) {
	store := memory.New()
	if err := store.APIs().Create(ctx, &storage.API{Identifier: bankAPI, Name: "Bank", Scopes: []storage.Scope{
		{Name: "read:balance", Description: "Read your account balance"},
		{Name: "transfer:funds", Description: "Transfer funds from your account"}}}); err != nil {
		return nil, nil, nil, err
	}
	if err := store.Users().Create(ctx, &storage.User{ID: "jane", Name: "Jane Doe", Email: "jane@example.com", EmailVerified: true}); err != nil {
		return nil, nil, nil, err
	}
	login := demo.NewLogin("jane")
	srv, err := authz.New(ctx, authz.Config{Issuer: issuer, Store: store, Login: login,
		Grants: []authz.Grant{grant.AuthorizationCode{}, grant.RefreshToken{}}})
	if err != nil {
		return nil, nil, nil, err
	}
	app := &demo.App{Audience: bankAPI, OAuth: &oauth2.Config{
		ClientID: "payfast", RedirectURL: appURL + "app/callback",
		Scopes:   []string{"read:balance", "transfer:funds"},
		Endpoint: oauth2.Endpoint{AuthURL: issuer + "authorize", TokenURL: issuer + "oauth/token"},
	}}
	secret, err := srv.CreateClient(ctx, &storage.Client{ID: "payfast", Name: "PayFast (third-party)",
		RedirectURIs: []string{app.OAuth.RedirectURL}, GrantTypes: []string{"authorization_code", "refresh_token"}})
	if err != nil {
		return nil, nil, nil, err
	}
	app.OAuth.ClientSecret = secret
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.Handle("/login", login)
	appMux := http.NewServeMux()
	appMux.Handle("/app", app)
	appMux.Handle("/app/callback", app)
	return mux, appMux, app, nil
}
