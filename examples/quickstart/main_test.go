package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
)

// startQuickstart serves the quickstart on a loopback port, as `go run` does.
func startQuickstart(t *testing.T, cfg *fileConfig) (*httptest.Server, map[string]string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	srv, secrets, err := setup(context.Background(), ts.URL+"/", cfg)
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
	 "clients":[{"client_id":"crm","client_secret":"a-long-secret-from-the-file","grant_types":["client_credentials"]}],
	 "client_grants":[{"client_id":"crm","audience":"https://contacts.example.com","scope":["read:contacts","write:users"]}]}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := readConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	ts, secrets := startQuickstart(t, cfg)
	if secrets["crm"] != "a-long-secret-from-the-file" {
		t.Fatalf("secret from the file not kept: %q", secrets["crm"])
	}
	cc := clientcredentials.Config{ClientID: "crm", ClientSecret: secrets["crm"], TokenURL: ts.URL + "/oauth/token"}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := tok.Expiry.Sub(tok.Expiry.Truncate(0)); d != 0 || tok.Extra("expires_in") != 300.0 {
		t.Fatalf("token_lifetime not applied: expires_in %v", tok.Extra("expires_in"))
	}
	if got := call(t, "POST", ts.URL+"/users", tok.AccessToken); got.StatusCode != 201 {
		t.Fatalf("POST /users with write:users: %d", got.StatusCode)
	}
	for _, bad := range []string{`{"apis":[]}`, `{`, `{"apis":[{"identifier":"x","signing_alg":"HS256"}]}`} {
		os.WriteFile(path, []byte(bad), 0o600)
		cfg, err := readConfig(path)
		if err == nil {
			_, _, err = setup(context.Background(), "http://127.0.0.1/", cfg)
		}
		if err == nil {
			t.Fatalf("config %s accepted", bad)
		}
	}
}
