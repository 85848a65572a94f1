package authz_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/storage"
)

// TestCORSHeaders: preflights name the methods and headers for any
// well-formed origin and allow no credentials; an actual token request gets
// Access-Control-Allow-Origin only for an origin its authenticated client
// registered, never for another origin or a failed authentication; the
// public documents are readable from anywhere.
func TestCORSHeaders(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const spa = "https://spa.example.com"
	secret, err := f.srv.CreateClient(ctx, &storage.Client{ID: "web", Name: "Web", GrantTypes: []string{"client_credentials"},
		AllowedOrigins: []string{spa}})
	must(t, err)
	must(t, f.store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "web", Audience: usersAPI, Scopes: []string{"read:users"}}))
	md := f.srv.Metadata()
	do := func(method, endpoint, origin string, form url.Values, h http.Header) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, endpoint, strings.NewReader(form.Encode()))
		must(t, err)
		for k, v := range h {
			req.Header[k] = v
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		return resp
	}

	pre := do(http.MethodOptions, md.TokenEndpoint, "https://anyone.example.org", nil, http.Header{
		"Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"authorization,content-type"}})
	h := pre.Header
	if pre.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "https://anyone.example.org" || h.Get("Access-Control-Allow-Methods") != "POST" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "DPoP") ||
		h.Get("Access-Control-Max-Age") == "" || h.Get("Vary") != "Origin" || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight: %d %v", pre.StatusCode, h)
	}
	for _, o := range []string{"null", "http://evil.example.com", "https://spa.example.com/path"} {
		if pre := do(http.MethodOptions, md.TokenEndpoint, o, nil, http.Header{"Access-Control-Request-Method": {"POST"}}); pre.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight of origin %q allowed: %v", o, pre.Header)
		}
	}

	cc := url.Values{"grant_type": {"client_credentials"}, "audience": {usersAPI}}
	for _, c := range []struct {
		name, origin, secret string
		status               int
		allow                string
	}{
		{"registered origin", spa, secret, 200, spa},
		{"another origin", "https://evil.example.com", secret, 200, ""},
		{"wrong secret", spa, "wrong", 401, ""},
	} {
		resp := do(http.MethodPost, md.TokenEndpoint, c.origin, cc, basic("web", c.secret))
		if resp.StatusCode != c.status || resp.Header.Get("Access-Control-Allow-Origin") != c.allow || resp.Header.Get("Vary") != "Origin" ||
			resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("%s: %d %v", c.name, resp.StatusCode, resp.Header)
		}
	}
	tok := f.issue(t, usersAPI).AccessToken // of "reporter", which registered no origin
	resp := do(http.MethodPost, md.RevocationEndpoint, spa, url.Values{"token": {tok}}, basic("reporter", f.secret))
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("revocation by a client without origins: %d %v", resp.StatusCode, resp.Header)
	}
	// Another client's token is refused, and the page of the client's
	// origin may read why.
	resp = do(http.MethodPost, md.RevocationEndpoint, spa, url.Values{"token": {tok}}, basic("web", secret))
	if resp.StatusCode != 400 || resp.Header.Get("Access-Control-Allow-Origin") != spa {
		t.Fatalf("revocation by the client of the origin: %d %v", resp.StatusCode, resp.Header)
	}

	for _, u := range []string{md.JWKSURI, strings.Replace(md.JWKSURI, "jwks.json", "oauth-authorization-server", 1)} {
		resp := do(http.MethodGet, u, "https://anyone.example.org", nil, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("%s: %d %v", u, resp.StatusCode, resp.Header)
		}
	}
}

// TestAllowedOriginsValidated: a registered origin is scheme://host[:port]
// exactly as a browser sends it, over https or loopback http.
func TestAllowedOriginsValidated(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, o := range []string{"https://spa.example.com", "https://spa.example.com:8443", "http://localhost:3000", "http://127.0.0.1:5173"} {
		_, err := f.srv.CreateClient(ctx, &storage.Client{Name: "ok", AllowedOrigins: []string{o}})
		if err != nil {
			t.Errorf("%q refused: %v", o, err)
		}
	}
	for _, o := range []string{"*", "https://*.example.com", "http://spa.example.com", "https://spa.example.com/", "https://spa.example.com/app",
		"https://spa.example.com?x=1", "https://SPA.example.com", "https://spa.example.com:443", "https://user@spa.example.com", "null", "",
		"javascript:alert(1)", "https://" + strings.Repeat("a", 300) + ".com"} {
		if _, err := f.srv.CreateClient(ctx, &storage.Client{Name: "bad", AllowedOrigins: []string{o}}); err == nil {
			t.Errorf("origin %q accepted", o)
		}
	}
}
