package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/storage/memory"
	"time"

	"golang.org/x/oauth2/clientcredentials"
)

// startQuickstart serves the quickstart on a loopback port, as `go run` does.
func startQuickstart(t *testing.T, cfg *fileConfig) (*httptest.Server, map[string]string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	srv, secrets, err := setup(context.Background(), ts.URL+"/", memory.New(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = routes(srv, cfg.APIs[0].Identifier)
	return ts, secrets
}

func call(t *testing.T, method, u, bearer string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestQuickstartStory is the story the quickstart prints: 200, 403, 401.
func TestQuickstartStory(t *testing.T) {
	ts, secrets := startQuickstart(t, demoConfig())
	cc := clientcredentials.Config{
		ClientID: "reporting-service", ClientSecret: secrets["reporting-service"],
		TokenURL:       ts.URL + "/oauth/token",
		EndpointParams: url.Values{"audience": {"https://users.example.com"}},
	}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, "GET", ts.URL+"/users", tok.AccessToken); got.StatusCode != 200 {
		t.Fatalf("GET /users: %d", got.StatusCode)
	}
	got := call(t, "POST", ts.URL+"/users", tok.AccessToken)
	if got.StatusCode != 403 || !strings.Contains(got.Header.Get("WWW-Authenticate"), "insufficient_scope") {
		t.Fatalf("POST /users: %d %q", got.StatusCode, got.Header.Get("WWW-Authenticate"))
	}
	if got := call(t, "GET", ts.URL+"/users", ""); got.StatusCode != 401 {
		t.Fatalf("GET /users without token: %d", got.StatusCode)
	}
}

func TestQuickstartConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	doc := `{"apis":[{"identifier":"https://contacts.example.com","name":"contacts","token_lifetime":"5m","signing_alg":"EdDSA",
	  "scopes":[{"name":"read:contacts"},{"name":"write:users"}]}],
	 "clients":[{"client_id":"crm","client_secret":"a-long-random-secret-from-the-config-file","grant_types":["client_credentials"]}],
	 "client_grants":[{"client_id":"crm","audience":"https://contacts.example.com","scope":["read:contacts","write:users"]}]}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := readConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	ts, secrets := startQuickstart(t, cfg)
	if secrets["crm"] != "a-long-random-secret-from-the-config-file" {
		t.Fatalf("secret from the file not kept: %q", secrets["crm"])
	}
	cc := clientcredentials.Config{ClientID: "crm", ClientSecret: secrets["crm"], TokenURL: ts.URL + "/oauth/token"}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.Extra("expires_in") != 300.0 {
		t.Fatalf("token_lifetime not applied: expires_in %v", tok.Extra("expires_in"))
	}
	if left := time.Until(tok.Expiry); left < 290*time.Second || left > 300*time.Second {
		t.Fatalf("token expires in %v, want 5m", left)
	}
	claims := payloadOf(t, tok.AccessToken)
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 300 {
		t.Fatalf("exp - iat = %v, want 300", exp-iat)
	}
	if got := call(t, "POST", ts.URL+"/users", tok.AccessToken); got.StatusCode != 201 {
		t.Fatalf("POST /users with write:users: %d", got.StatusCode)
	}
	api := `{"apis":[{"identifier":"https://a.example.com","scopes":[{"name":"r"}]}],`
	for _, bad := range []string{`{"apis":[]}`, `{`, `{"apis":[{"identifier":"x","signing_alg":"HS256"}]}`,
		api + `"clients":[{"client_id":"c","client_secret":"short"}]}`,
		api + `"clients":[{"client_id":"c","client_secret":"` + strings.Repeat("s", minSecretLen-1) + `"}]}`,
		api + `"clients":[{"client_secret":"` + strings.Repeat("s", 40) + `"}]}`,
		api + `"clients":[{"client_id":"bad\u0001id"}]}`,
		api + `"clients":[{"client_id":"c","redirect_uris":["/relative"]}]}`,
	} {
		os.WriteFile(path, []byte(bad), 0o600)
		cfg, err := readConfig(path)
		if err == nil {
			_, _, err = setup(context.Background(), "http://127.0.0.1/", memory.New(), cfg)
		}
		if err == nil {
			t.Fatalf("config %s accepted", bad)
		}
	}
}

func TestQuickstartSecretTooShortSaysSo(t *testing.T) {
	cfg := &fileConfig{}
	must(t, json.Unmarshal([]byte(`{"apis":[{"identifier":"https://a.example.com"}],
	  "clients":[{"client_id":"c","client_secret":"password1"}]}`), cfg))
	_, _, err := setup(context.Background(), "http://127.0.0.1/", memory.New(), cfg)
	if err == nil || !strings.Contains(err.Error(), "at least 32 characters") || !strings.Contains(err.Error(), "client c") {
		t.Fatalf("err = %v", err)
	}
	cfg = &fileConfig{}
	secret := "Xq7vR2mLp9TzK4wNb8YhJ3cFd6GsA1eU"[:minSecretLen]
	must(t, json.Unmarshal([]byte(`{"apis":[{"identifier":"https://a.example.com"}],
	  "clients":[{"client_id":"c","client_secret":"`+secret+`"}]}`), cfg))
	if _, secrets, err := setup(context.Background(), "http://127.0.0.1/", memory.New(), cfg); err != nil || secrets["c"] != secret {
		t.Fatalf("a random secret of exactly %d characters: %v", minSecretLen, err)
	}
}

// TestIssuerForListener: an unspecified listen host gives a loopback issuer
// the server accepts, where "http://[::]:8080/" would be refused.
func TestIssuerForListener(t *testing.T) {
	cases := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "http://127.0.0.1:8080/"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "http://127.0.0.1:8080/"},
		{&net.TCPAddr{Port: 8080}, "http://127.0.0.1:8080/"},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9000}, "http://127.0.0.1:9000/"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 9000}, "http://[::1]:9000/"},
	}
	for _, tc := range cases {
		got := issuerFor(tc.addr)
		if got != tc.want {
			t.Fatalf("issuerFor(%v) = %q, want %q", tc.addr, got, tc.want)
		}
		if _, _, err := setup(context.Background(), got, memory.New(), demoConfig()); err != nil {
			t.Fatalf("issuer %q refused: %v", got, err)
		}
	}
	for _, listen := range []string{":0", "0.0.0.0:0"} {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			t.Fatal(err)
		}
		iss := issuerFor(ln.Addr())
		ln.Close()
		if !strings.HasPrefix(iss, "http://127.0.0.1:") {
			t.Fatalf("listening on %q gives issuer %q", listen, iss)
		}
	}
}

// TestIssuerFlag: an explicit issuer (e.g. behind a TLS proxy) is used as
// given; a plain http one off loopback is refused.
func TestIssuerFlag(t *testing.T) {
	srv, _, err := setup(context.Background(), "https://auth.example.com/", memory.New(), demoConfig())
	if err != nil || srv.Issuer() != "https://auth.example.com/" || srv.Metadata().TokenEndpoint != "https://auth.example.com/oauth/token" {
		t.Fatalf("%v", err)
	}
	if _, _, err := setup(context.Background(), "http://auth.example.com/", memory.New(), demoConfig()); err == nil {
		t.Fatal("plain http issuer off loopback accepted")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// payloadOf returns the unverified claims of a JWT.
func payloadOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(b, &m))
	return m
}
