// Command embed is the program of the README's "Embed it" section: an
// issuer over the memory store with one API, one machine client granted
// read:users through the admin layer, and a route of the host's own that
// requires that scope. The README shows the code between the markers
// embed:start and embed:end, which a test keeps equal to this file.
//
//	go run ./examples/embed -addr 127.0.0.1:8080
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// embed:start
func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	ctx := context.Background()

	srv, err := authz.New(ctx, authz.Config{
		Issuer: "https://auth.example.com/", // the public URL, e.g. of a TLS proxy in front
		Store:  memory.New(),                // or a Redis or MongoDB store, see Storage below
		Grants: []authz.Grant{grant.ClientCredentials{}},
	})
	if err != nil {
		log.Fatal(err)
	}

	// Every write goes through the admin layer, which validates it.
	m := admin.New(srv)
	if err := m.CreateAPI(ctx, &storage.API{Identifier: "https://users.example.com", Name: "users",
		Scopes: []storage.Scope{{Name: "read:users"}, {Name: "write:users"}}}); err != nil {
		log.Fatal(err)
	}
	secret, err := m.CreateClient(ctx, &storage.Client{ID: "reporting", Name: "Reporting",
		GrantTypes: []string{"client_credentials"}})
	if err != nil {
		log.Fatal(err)
	}
	if err := m.CreateClientGrant(ctx, &storage.ClientGrant{ClientID: "reporting",
		Audience: "https://users.example.com", Scopes: []string{"read:users"}}); err != nil {
		log.Fatal(err)
	}

	listUsers := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := resource.PrincipalFrom(r.Context()) // the verified token
		fmt.Fprintf(w, "users, as seen by %s\n", p.ClientID)
	})
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler()) // /oauth/token, /oauth/introspect, /oauth/revoke, /.well-known/...
	users := srv.Authorizer("https://users.example.com")
	mux.Handle("GET /users", users.RequireScopes("read:users")(listUsers))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s/; client reporting, secret (shown once): %s", ln.Addr(), secret)
	log.Fatal(http.Serve(ln, mux))
}

// embed:end
