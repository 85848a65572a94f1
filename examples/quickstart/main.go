// Command quickstart runs an issuer and a protected API in one process: a
// back-end service gets a token for the "users" API with the read:users
// scope, and the API checks the scope before it answers.
//
//	go run ./examples/quickstart            # listens on 127.0.0.1:8080
//	go run ./examples/quickstart -config my.json -addr 127.0.0.1:9000
//	go run ./examples/quickstart -addr :8080 -issuer https://auth.example.com/
//	SCOPEKIT_STORE=redis://127.0.0.1:6379/0 go run ./examples/quickstart
//
// With -store redis://… or mongodb://… the clients, their secrets and the
// signing keys survive a restart: a client's secret is printed only when
// it is created. SIGINT or SIGTERM lets in-flight requests finish.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// shutdownTimeout bounds how long in-flight requests may take to finish
// after SIGINT or SIGTERM; the connections still open then are closed.
const shutdownTimeout = 10 * time.Second

// settings are the quickstart's settings: flags, each defaulting to its
// environment variable, so a flag wins over the environment.
type settings struct {
	addr, issuer, store, config string
}

// parseOptions reads args over the environment getenv reads.
func parseOptions(args []string, getenv func(string) string) (*settings, error) {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	var o settings
	vars := map[string]string{}
	str := func(p *string, name, env, def, usage string) {
		fs.StringVar(p, name, def, usage+" (env "+env+")")
		vars[name] = env
	}
	str(&o.addr, "addr", "SCOPEKIT_ADDR", "127.0.0.1:8080", "listen address")
	str(&o.issuer, "issuer", "SCOPEKIT_ISSUER", "", "issuer URL (default http://<addr>/, with 127.0.0.1 for an unspecified host); https, or http on loopback")
	str(&o.store, "store", "SCOPEKIT_STORE", "memory", storeHelp+"\n")
	str(&o.config, "config", "SCOPEKIT_CONFIG", "", "JSON file of APIs, clients and client grants, see README")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: quickstart [flags]\n\nA flag wins over its environment variable. SIGINT or SIGTERM stops the\nserver once in-flight requests finish (at most %v).\n\n", shutdownTimeout)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, env := range vars { // the environment fills in the flags not given
		if v := getenv(env); v != "" && !set[name] {
			_ = fs.Set(name, v)
		}
	}
	return &o, nil
}

// run serves until ctx ends or SIGINT/SIGTERM arrives, then shuts down
// gracefully: it returns nil once in-flight requests are done.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	o, err := parseOptions(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg := demoConfig()
	if o.config != "" {
		if cfg, err = readConfig(o.config); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, closeStore, err := openStore(ctx, o.store)
	if err != nil {
		return err
	}
	defer closeStore()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	issuer := o.issuer
	if issuer == "" {
		issuer = issuerFor(ln.Addr())
	}
	srv, secrets, err := setup(ctx, issuer, store, cfg)
	if err != nil {
		return err
	}
	api := cfg.APIs[0].Identifier
	defer srv.Close()
	printUsage(out, issuer, api, secrets)
	hs := &http.Server{Handler: routes(srv, api), ReadHeaderTimeout: 10 * time.Second}
	hs.RegisterOnShutdown(func() { // called once the listener is closed
		fmt.Fprintln(out, "shutting down: no new connections, finishing in-flight requests")
	})
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close() // the timeout passed: drop what is left
		fmt.Fprintf(out, "shutdown: %v; remaining connections closed\n", err)
	}
	return nil
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

// setup builds the issuer over store loaded with cfg. Records the store
// already has are kept as they are (see fileConfig.loadClients): the
// secrets returned are those of the clients created now, and "" for a
// client kept.
func setup(ctx context.Context, issuer string, store storage.Store, cfg *fileConfig) (*authz.Server, map[string]string, error) {
	srv, err := authz.New(ctx, authz.Config{
		Issuer:          issuer,
		Store:           store,
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
	secrets, kept, err := cfg.loadClients(ctx, m)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range kept {
		secrets[id] = "" // kept from the store: its secret is not known here
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
		if secrets[id] == "" {
			fmt.Fprintf(w, "client:   %s (kept from the store, secret unchanged)\n", id)
			continue
		}
		fmt.Fprintf(w, "client:   %s\nsecret:   %s\n", id, secrets[id])
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return secrets[id] == "" })
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
