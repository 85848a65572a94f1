package authz_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
	"github.com/scopekit/scopekit/token"
)

const (
	usersAPI = "https://users.example.com"
	bankAPI  = "https://bank.example.com"
)

// fixture is an issuer over a memory store with the quickstart story: the
// users API, a reporting client granted read:users, and a second client.
type fixture struct {
	srv     *authz.Server
	store   storage.Store
	http    *httptest.Server
	secret  string // of "reporter"
	secret2 string // of "other"
	// postSecret is the secret of "poster", registered for
	// client_secret_post (the others use client_secret_basic).
	postSecret string
}

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func newFixture(t testing.TB, mutate ...func(*authz.Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	store := memory.New()
	must(t, store.APIs().Create(ctx, &storage.API{Identifier: usersAPI, Name: "users", Scopes: []storage.Scope{
		{Name: "read:users", Description: "Read users"}, {Name: "write:users", Description: "Write users"},
	}}))
	must(t, store.APIs().Create(ctx, &storage.API{Identifier: bankAPI, Name: "bank", SigningAlg: token.ES256, Scopes: []storage.Scope{
		{Name: "read:balance"}, {Name: "transfer:funds"},
	}}))
	f := &fixture{store: store}
	f.http = httptest.NewUnstartedServer(nil)
	f.http.Start()
	t.Cleanup(f.http.Close)
	cfg := authz.Config{
		Issuer: f.http.URL + "/",
		Store:  store,
		Grants: []authz.Grant{grant.ClientCredentials{}},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := authz.New(ctx, cfg)
	must(t, err)
	f.srv = srv
	f.http.Config.Handler = srv.Handler()
	if _, err := srv.RotateKey(ctx, token.ES256); err != nil {
		t.Fatal(err)
	}
	rep := &storage.Client{ID: "reporter", Name: "Reporting", GrantTypes: []string{"client_credentials"}}
	f.secret, err = srv.CreateClient(ctx, rep)
	must(t, err)
	other := &storage.Client{ID: "other", Name: "Other", GrantTypes: []string{"client_credentials"}}
	f.secret2, err = srv.CreateClient(ctx, other)
	must(t, err)
	must(t, store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "reporter", Audience: usersAPI, Scopes: []string{"read:users"}}))
	must(t, store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "reporter", Audience: bankAPI, Scopes: []string{"read:balance", "transfer:funds"}}))
	must(t, store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "other", Audience: usersAPI, Scopes: []string{"read:users", "write:users"}}))
	f.postSecret, err = srv.CreateClient(ctx, &storage.Client{ID: "poster", Name: "Poster", GrantTypes: []string{"client_credentials"}, AuthMethod: oauth.AuthPost})
	must(t, err)
	must(t, store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "poster", Audience: usersAPI, Scopes: []string{"read:users"}}))
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// issue runs a client-credentials request in-process.
func (f *fixture) issue(t testing.TB, aud string, scopes ...string) *authz.TokenResponse {
	t.Helper()
	req := &authz.TokenRequest{GrantType: "client_credentials", ClientID: "reporter", ClientSecret: f.secret,
		AuthMethod: oauth.AuthBasic, Audience: aud}
	if scopes != nil {
		req.Scopes = scopes
	}
	resp, err := f.srv.Issue(context.Background(), req)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return resp
}

func httpRoundTrip(t testing.TB, h http.Handler, method, path, bearer string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func basic(id, secret string) http.Header {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return r.Header
}

// postForm posts a form and decodes the JSON answer.
func postForm(t testing.TB, endpoint string, form url.Values, header http.Header) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := map[string]any{}
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("body %q: %v", raw, err)
		}
	}
	return resp, body
}

// decodePayload returns the unverified claims of a JWT.
func decodePayload(t testing.TB, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	must(t, json.Unmarshal(b, &m))
	return m
}

func revocationOf(claims map[string]any) *storage.Revocation {
	return &storage.Revocation{JTI: claims["jti"].(string), ExpiresAt: time.Unix(int64(claims["exp"].(float64)), 0)}
}
