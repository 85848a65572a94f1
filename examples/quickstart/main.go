// Command quickstart runs an issuer and a protected API in one process: a
// back-end service gets a token for the "users" API with the read:users
// scope, and the API checks the scope before it answers.
//
//	go run ./examples/quickstart            # listens on 127.0.0.1:8080
//	go run ./examples/quickstart -config my.json -addr 127.0.0.1:9000
//	go run ./examples/quickstart -addr :8080 -issuer https://auth.example.com/
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage/memory"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	issuerFlag := flag.String("issuer", "", "issuer URL (default http://<addr>/, with 127.0.0.1 for an unspecified host); https, or http on loopback")
	configPath := flag.String("config", "", "JSON file of APIs, clients and client grants (see README)")
	flag.Parse()
	if err := run(*addr, *issuerFlag, *configPath); err != nil {
		log.Fatal(err)
	}
}

func run(addr, issuer, configPath string) error {
	cfg := demoConfig()
	if configPath != "" {
		var err error
		if cfg, err = readConfig(configPath); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if issuer == "" {
		issuer = issuerFor(ln.Addr())
	}
	srv, secrets, err := setup(context.Background(), issuer, cfg)
	if err != nil {
		return err
	}
	api := cfg.APIs[0].Identifier
	printUsage(os.Stdout, issuer, api, secrets)
	hs := &http.Server{Handler: routes(srv, api), ReadHeaderTimeout: 10 * time.Second}
	return hs.Serve(ln)
}

// issuerFor returns the issuer URL of a listener: http://host:port/, where
// an unspecified host (":8080", "0.0.0.0:8080", "[::]:8080") becomes
// 127.0.0.1, the address a local client reaches and a loopback issuer may
// use over plain http.
func issuerFor(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String() + "/"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// setup builds the issuer over a memory store loaded with cfg.
func setup(ctx context.Context, issuer string, cfg *fileConfig) (*authz.Server, map[string]string, error) {
	srv, err := authz.New(ctx, authz.Config{
		Issuer:          issuer,
		Store:           memory.New(),
		Grants:          []authz.Grant{grant.ClientCredentials{}},
		DefaultAudience: cfg.APIs[0].Identifier,
	})
	if err != nil {
		return nil, nil, err
	}
	m := admin.New(srv)
	if err := cfg.loadAPIs(ctx, m); err != nil {
		return nil, nil, err
	}
	secrets, err := cfg.loadClients(ctx, m)
	if err != nil {
		return nil, nil, err
	}
	return srv, secrets, nil
}

// routes mounts the issuer and the protected /users endpoint: GET needs
// read:users, POST needs write:users.
func routes(srv *authz.Server, audience string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	rs := srv.Authorizer(audience)
	mux.Handle("GET /users", rs.RequireScopes("read:users")(http.HandlerFunc(listUsers)))
	mux.Handle("POST /users", rs.RequireScopes("write:users")(http.HandlerFunc(createUser)))
	return mux
}

func listUsers(w http.ResponseWriter, r *http.Request) {
	p, _ := resource.PrincipalFrom(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"caller": p.Subject,
		"users":  []map[string]any{{"id": 1, "name": "Alice"}, {"id": 2, "name": "Bob"}},
	})
}

func createUser(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(`{"message":"User created"}` + "\n"))
}

func printUsage(w io.Writer, issuer, api string, secrets map[string]string) {
	ids := make([]string, 0, len(secrets))
	for id := range secrets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	fmt.Fprintf(w, "issuer:   %s\naudience: %s\n", issuer, api)
	for _, id := range ids {
		fmt.Fprintf(w, "client:   %s\nsecret:   %s\n", id, secrets[id])
	}
	if len(ids) == 0 {
		return
	}
	fmt.Fprintf(w, `
# get a token as %[2]s
TOKEN=$(curl -s -u '%[2]s:%[3]s' -d grant_type=client_credentials -d audience='%[4]s' %[1]s/oauth/token | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
# GET /users needs read:users
curl -i -H "Authorization: Bearer $TOKEN" %[1]s/users
# POST /users needs write:users
curl -i -X POST -H "Authorization: Bearer $TOKEN" %[1]s/users
# no token: 401
curl -i %[1]s/users
`, strings.TrimSuffix(issuer, "/"), ids[0], secrets[ids[0]], api)
}
