// Package tenant_test runs a multi-tenant host over HTTP: one process, one
// store, tenants created and deleted through the tenants API.
package tenant_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/tenant"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
)

// rootAPI is the root tenant's management API, whose tokens the tenants
// API accepts.
const rootAPI = "https://manage.example.com/api/v2/"

// host is a multi-tenant host: the root issuer at /, the tenants under
// /_api/auth/<id>/, the tenants API at /api/v2/tenants.
type host struct {
	t     *testing.T
	store storage.Store
	http  *httptest.Server
	root  *authz.Server
	reg   *tenant.Registry
	// secrets of the root's clients, and of each tenant's "app" client made
	// by Bootstrap.
	opsSecret, readerSecret string
	mu                      sync.Mutex
	apps                    map[string]string
}

func newHost(t *testing.T, store storage.Store) *host {
	t.Helper()
	ctx := context.Background()
	h := &host{t: t, store: store, apps: map[string]string{}}
	mux := http.NewServeMux()
	h.http = httptest.NewServer(mux)
	t.Cleanup(h.http.Close)

	var err error
	h.root, err = authz.New(ctx, authz.Config{Issuer: h.http.URL + "/", Store: store, Grants: []authz.Grant{grant.ClientCredentials{}}})
	must(t, err)
	t.Cleanup(func() { _ = h.root.Close() })
	m := admin.New(h.root)
	scopes := []storage.Scope{{Name: tenant.ScopeList}, {Name: tenant.ScopeCreate}, {Name: tenant.ScopeRead}, {Name: tenant.ScopeUpdate}, {Name: tenant.ScopeDelete}}
	must(t, m.CreateAPI(ctx, &storage.API{Identifier: rootAPI, Name: "Management", Scopes: scopes}))
	h.opsSecret = machine(t, m, "ops", rootAPI, tenant.ScopeList, tenant.ScopeCreate, tenant.ScopeRead, tenant.ScopeUpdate, tenant.ScopeDelete)
	h.readerSecret = machine(t, m, "reader", rootAPI, tenant.ScopeRead)

	h.reg, err = tenant.New(tenant.Config{
		Store:      store,
		Template:   authz.Config{Grants: []authz.Grant{grant.ClientCredentials{}}},
		BaseURL:    h.http.URL + "/_api/auth",
		MaxServers: 1, // every switch of tenant evicts and rebuilds
		Bootstrap: func(ctx context.Context, rec *storage.Tenant, srv *authz.Server) error {
			// As in the seed, the tenant's API is its issuer.
			m := admin.New(srv)
			aud := strings.TrimSuffix(srv.Issuer(), "/")
			if err := m.CreateAPI(ctx, &storage.API{Identifier: aud, Name: "Auth REST API", Scopes: []storage.Scope{{Name: "auth.clients.list"}}}); err != nil {
				return err
			}
			secret := machine(t, m, "app", aud, "auth.clients.list")
			h.mu.Lock()
			h.apps[rec.ID] = secret
			h.mu.Unlock()
			return nil
		},
	})
	must(t, err)
	t.Cleanup(func() { _ = h.reg.Close() })
	mux.Handle("/_api/auth/", h.reg.Handler())
	mux.Handle("/.well-known/oauth-authorization-server/_api/auth/", h.reg.Handler())
	api := h.reg.API(h.root.Authorizer(rootAPI))
	mux.Handle(tenant.APIPath, api)
	mux.Handle(tenant.APIPath+"/", api)
	mux.Handle("/", h.root.Handler())
	return h
}

// machine registers a client-credentials client granted scopes of aud and
// returns its secret.
func machine(t *testing.T, m *admin.Admin, id, aud string, scopes ...string) string {
	t.Helper()
	ctx := context.Background()
	secret, err := m.CreateClient(ctx, &storage.Client{ID: id, Name: id, GrantTypes: []string{"client_credentials"}})
	must(t, err)
	must(t, m.CreateClientGrant(ctx, &storage.ClientGrant{ClientID: id, Audience: aud, Scopes: scopes}))
	return secret
}

func (h *host) issuer(id string) string { return h.http.URL + "/_api/auth/" + id + "/" }

func (h *host) appSecret(id string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.apps[id]
}

// token gets a client-credentials token at issuer; status is the answer's.
func (h *host) token(issuer, client, secret, aud string) (string, int) {
	h.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "audience": {aud}}
	req, err := http.NewRequest("POST", issuer+"oauth/token", strings.NewReader(form.Encode()))
	must(h.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(client, secret)
	status, body := h.do(req)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &out)
	return out.AccessToken, status
}

// tenantToken gets a token of tenant id's app for its API.
func (h *host) tenantToken(id string) string {
	h.t.Helper()
	tok, status := h.token(h.issuer(id), "app", h.appSecret(id), strings.TrimSuffix(h.issuer(id), "/"))
	if status != http.StatusOK || tok == "" {
		h.t.Fatalf("token of tenant %s: %d", id, status)
	}
	return tok
}

func (h *host) opsToken() string {
	h.t.Helper()
	tok, status := h.token(h.http.URL+"/", "ops", h.opsSecret, rootAPI)
	if status != http.StatusOK {
		h.t.Fatalf("ops token: %d", status)
	}
	return tok
}

// call makes a request with an optional bearer token and JSON body.
func (h *host) call(method, path, bearer, body string) (int, []byte, http.Header) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.http.URL+path, strings.NewReader(body))
	must(h.t, err)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	must(h.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(h.t, err)
	return resp.StatusCode, b, resp.Header
}

func (h *host) do(req *http.Request) (int, []byte) {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	must(h.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(h.t, err)
	return resp.StatusCode, b
}

// getJSON GETs an absolute URL and decodes the JSON answer.
func (h *host) getJSON(u string) (int, map[string]any) {
	h.t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	must(h.t, err)
	status, b := h.do(req)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return status, out
}

// claims decodes a JWT's payload without verifying it.
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	var c map[string]any
	must(t, json.Unmarshal(b, &c))
	return c
}

// kids returns the key ids of a tenant's JWKS.
func (h *host) kids(issuer string) map[string]bool {
	h.t.Helper()
	status, doc := h.getJSON(issuer + ".well-known/jwks.json")
	if status != http.StatusOK {
		h.t.Fatalf("jwks of %s: %d", issuer, status)
	}
	out := map[string]bool{}
	keys, _ := doc["keys"].([]any)
	for _, k := range keys {
		kid, _ := k.(map[string]any)["kid"].(string)
		out[kid] = true
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
