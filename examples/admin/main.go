// Command admin runs an issuer with the management REST API and then
// drives it with plain HTTP, printing each request as the curl command a
// shell user would type: a management token, an API with scopes, a client
// and its client grant, then a token of the new client for the new API and
// a call of the route that API protects.
//
//	go run ./examples/admin                  # listens on 127.0.0.1:8080
//	go run ./examples/admin -addr 127.0.0.1:9000
//
// The issuer keeps serving after the story, so the printed commands can be
// run again.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage/memory"
)

// invoicesAPI is the API the story creates, and the route it protects.
const (
	invoicesAPI   = "https://invoices.example.com/"
	invoicesRoute = "/invoices"
	readInvoices  = "read:invoices"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (loopback: the issuer runs over plain http)")
	flag.Parse()
	if err := run(*addr); err != nil {
		log.Fatal(err)
	}
}

func run(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	h, boot, err := build(context.Background(), base+"/")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	if _, err := story(os.Stdout, http.DefaultClient, base, boot); err != nil {
		return err
	}
	fmt.Println("\nstill serving on", base, "(Ctrl-C to stop)")
	return <-served
}

// build makes the issuer at issuer over a memory store, bootstraps the
// management API and its first client, and mounts the management API, the
// issuer and the invoices route (which needs read:invoices of invoicesAPI,
// an API that does not exist yet: the story creates it over REST).
func build(ctx context.Context, issuer string) (http.Handler, *admin.Bootstrapped, error) {
	srv, err := authz.New(ctx, authz.Config{
		Issuer:   issuer,
		Store:    memory.New(),
		Grants:   []authz.Grant{grant.ClientCredentials{}},
		AuditLog: true,
	})
	if err != nil {
		return nil, nil, err
	}
	adm := admin.New(srv)
	boot, err := adm.Bootstrap(ctx, admin.BootstrapConfig{})
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v2/", adm.Handler(admin.RESTConfig{}))
	mux.Handle("/", srv.Handler())
	mux.Handle("GET "+invoicesRoute, srv.Authorizer(invoicesAPI).RequireScopes(readInvoices)(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"invoices":[{"id":"inv_1","total":42}]}` + "\n"))
		})))
	return mux, boot, nil
}

// story makes the management calls and the protected call, printing each
// as curl; it returns the protected route's answer.
func story(out io.Writer, c *http.Client, base string, boot *admin.Bootstrapped) (string, error) {
	s := &caller{out: out, c: c, base: base}
	fmt.Fprintf(out, "# the management client's secret is shown once, at bootstrap\nSECRET=%s\n", boot.ClientSecret)

	fmt.Fprintln(out, "\n# 1. a management token (client credentials for the management API)")
	mgmt, err := s.token(url.Values{"grant_type": {"client_credentials"}, "audience": {boot.Audience}},
		boot.ClientID, boot.ClientID, "$SECRET", boot.ClientSecret)
	if err != nil {
		return "", err
	}
	s.mgmt = mgmt

	fmt.Fprintln(out, "\n# 2. an API with its scopes")
	if _, err := s.post("/api/v2/resource-servers", map[string]any{"identifier": invoicesAPI, "name": "Invoices",
		"scopes": []map[string]string{{"name": readInvoices, "description": "Read invoices"}, {"name": "write:invoices"}}}); err != nil {
		return "", err
	}

	fmt.Fprintln(out, "\n# 3. a client that uses client credentials (its secret is answered once)")
	cl, err := s.post("/api/v2/clients", map[string]any{"client_name": "Billing job", "grant_types": []string{"client_credentials"}})
	if err != nil {
		return "", err
	}
	id, _ := cl["client_id"].(string)
	secret, _ := cl["client_secret"].(string)
	fmt.Fprintf(out, "CLIENT_ID=%s CLIENT_SECRET=%s\n", id, secret)

	fmt.Fprintln(out, "\n# 4. a client grant: the client may ask the API for read:invoices")
	if _, err := s.post("/api/v2/client-grants", map[string]any{"client_id": id, "audience": invoicesAPI,
		"scope": []string{readInvoices}}); err != nil {
		return "", err
	}

	fmt.Fprintln(out, "\n# 5. the new client's token for the new API")
	tok, err := s.token(url.Values{"grant_type": {"client_credentials"}, "audience": {invoicesAPI}, "scope": {readInvoices}},
		"$CLIENT_ID", id, "$CLIENT_SECRET", secret)
	if err != nil {
		return "", err
	}

	fmt.Fprintln(out, "\n# 6. the protected route")
	fmt.Fprintf(out, "curl -H \"Authorization: Bearer $ACCESS_TOKEN\" %s%s\n", base, invoicesRoute)
	req, err := http.NewRequest("GET", base+invoicesRoute, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	body, err := s.send(req)
	if err != nil {
		return "", err
	}
	fmt.Fprint(out, body)
	return body, nil
}

// caller sends the story's requests and prints them.
type caller struct {
	out  io.Writer
	c    *http.Client
	base string
	mgmt string
}

// token posts a token request as the client id with its secret (HTTP
// Basic, RFC 6749 §2.3.1: the method a confidential client registers by
// default). idVar and secretVar are the shell variables printed for them.
// It prints the curl command and answers the access token (the shell
// keeps it in $TOKEN, then $ACCESS_TOKEN).
func (s *caller) token(form url.Values, idVar, id, secretVar, secret string) (string, error) {
	var args []string
	for _, k := range []string{"grant_type", "audience", "scope"} {
		if v := form.Get(k); v != "" {
			args = append(args, "-d "+k+"="+v)
		}
	}
	name := "TOKEN"
	if s.mgmt != "" {
		name = "ACCESS_TOKEN"
	}
	fmt.Fprintf(s.out, "%s=$(curl -s -u \"%s:%s\" %s \\\n  %s/oauth/token | jq -r .access_token)\n",
		name, idVar, secretVar, strings.Join(args, " "), s.base)
	req, err := http.NewRequest("POST", s.base+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	body, err := s.send(req)
	if err != nil {
		return "", err
	}
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &t); err != nil || t.AccessToken == "" {
		return "", fmt.Errorf("token answer %q", body)
	}
	return t.AccessToken, nil
}

// post sends a management write with the management token and answers
// the created record.
func (s *caller) post(path string, body any) (map[string]any, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(s.out, "curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n  -d '%s' %s%s\n", raw, s.base, path)
	req, err := http.NewRequest("POST", s.base+path, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.mgmt)
	answer, err := s.send(req)
	if err != nil {
		return nil, err
	}
	rec := map[string]any{}
	return rec, json.Unmarshal([]byte(answer), &rec)
}

// send makes one request; an answer other than 2xx is an error.
func (s *caller) send(req *http.Request) (string, error) {
	resp, err := s.c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	return string(b), nil
}
