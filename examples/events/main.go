// Command events is the first-party story: an events application signs users
// in and gets a token for the events API, whose scopes depend on the user's
// role. Organizers get create:events and update:events, participants
// view:events and register:events, whatever the app asks; no consent page is
// shown because the app is first-party and the API allows skipping consent.
//
//	go run ./examples/events   # then open http://127.0.0.1:8080/app
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

const eventsAPI = "https://events.example.com"

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	log.Fatal(demo.ListenAndServe(*addr, func(issuer string) (http.Handler, string, error) {
		h, _, err := build(context.Background(), issuer)
		return h, fmt.Sprintf("issuer: %s\nopen %sapp and sign in as alice (organizer) or bob (participant)", issuer, issuer), err
	}))
}

// build sets up the story: the events API with RBAC, the organizer and
// participant roles (bob gets his through the "attendees" group), the
// first-party app, and the demo login.
func build(ctx context.Context, issuer string) (http.Handler, *demo.App, error) {
	store := memory.New()
	records := []error{
		store.APIs().Create(ctx, &storage.API{Identifier: eventsAPI, Name: "Events", EnforceRBAC: true,
			AddPermissionsClaim: true, AllowSkipConsent: true, Scopes: []storage.Scope{
				{Name: "create:events", Description: "Create events"}, {Name: "update:events", Description: "Update events"},
				{Name: "view:events", Description: "View events"}, {Name: "register:events", Description: "Register for events"}}}),
		store.Roles().Create(ctx, &storage.Role{ID: "organizer", Name: "Organizer", Permissions: []storage.Permission{
			{Audience: eventsAPI, Scope: "create:events"}, {Audience: eventsAPI, Scope: "update:events"}}}),
		store.Roles().Create(ctx, &storage.Role{ID: "participant", Name: "Participant", Permissions: []storage.Permission{
			{Audience: eventsAPI, Scope: "view:events"}, {Audience: eventsAPI, Scope: "register:events"}}}),
		store.Groups().Create(ctx, &storage.Group{ID: "attendees", Name: "Attendees", Roles: []string{"participant"}}),
		store.Users().Create(ctx, &storage.User{ID: "alice", Name: "Alice", Email: "alice@example.com", Roles: []string{"organizer"}}),
		store.Users().Create(ctx, &storage.User{ID: "bob", Name: "Bob", Email: "bob@example.com", Groups: []string{"attendees"}}),
	}
	for _, err := range records {
		if err != nil {
			return nil, nil, err
		}
	}
	login := demo.NewLogin("alice", "bob")
	srv, err := authz.New(ctx, authz.Config{Issuer: issuer, Store: store, Login: login,
		Grants: []authz.Grant{grant.AuthorizationCode{}, grant.RefreshToken{}}})
	if err != nil {
		return nil, nil, err
	}
	app := &demo.App{Audience: eventsAPI, OAuth: &oauth2.Config{
		ClientID: "events-app", RedirectURL: issuer + "app/callback",
		Scopes:   []string{"create:events", "update:events", "view:events", "register:events"},
		Endpoint: oauth2.Endpoint{AuthURL: issuer + "authorize", TokenURL: issuer + "oauth/token", AuthStyle: oauth2.AuthStyleInParams},
	}}
	if _, err := srv.CreateClient(ctx, &storage.Client{ID: "events-app", Name: "Events", Public: true, FirstParty: true,
		RedirectURIs: []string{app.OAuth.RedirectURL}, GrantTypes: []string{"authorization_code", "refresh_token"}}); err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.Handle("/login", login)
	mux.Handle("/app", app)
	mux.Handle("/app/callback", app)
	return mux, app, nil
}
