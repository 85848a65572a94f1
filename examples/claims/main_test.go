package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// TestExplainOutput checks the program's output: the seed's ID token claims
// and each rule's trace.
func TestExplainOutput(t *testing.T) {
	var b strings.Builder
	if err := run(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`"https://myapp.example.com/favorite_color": "blue"`,
		`"https://myapp.example.com/preferred_contact": "email"`,
		`"email": "jane@example.com"`,
		`"scope": "openid profile email read:contacts"`,
		`"action": "scope_removed"`,
		`"target": "delete:contacts"`,
		`"https://myapp.example.com/service": "Contacts sync"`,
		`"sub": "sync-service@clients"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

// TestSeedRuleTokens runs the seed's rule in a real code flow: the ID token
// carries the namespaced claims, and /userinfo returns them too.
func TestSeedRuleTokens(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	mux := http.NewServeMux()
	ts := httptest.NewServer(mux)
	defer ts.Close()
	login := authz.LoginFuncs{
		SessionFunc: func(*http.Request) (*authz.Session, error) {
			return &authz.Session{UserID: "custom|123", AuthTime: time.Now()}, nil
		},
		ChallengeFunc: func(w http.ResponseWriter, r *http.Request, _ string) { http.Error(w, "no login", 500) },
	}
	srv, err := authz.New(ctx, authz.Config{Issuer: ts.URL + "/", Store: store, Login: login,
		Grants: []authz.Grant{grant.AuthorizationCode{}}, Rules: []authz.Rule{addProfileClaims}})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", srv.Handler())
	if err := store.Users().Create(ctx, &storage.User{ID: "custom|123", Email: "jane@example.com", EmailVerified: true,
		AppMetadata: map[string]any{"favorite_color": "blue"}, UserMetadata: map[string]any{"preferred_contact": "email"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.CreateClient(ctx, &storage.Client{ID: "app", FirstParty: true, Public: true,
		RedirectURIs: []string{"http://127.0.0.1/cb"}, GrantTypes: []string{"authorization_code"}}); err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: "app", RedirectURL: "http://127.0.0.1/cb", Scopes: []string{"openid", "email"},
		Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/authorize", TokenURL: ts.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
	v := oauth2.GenerateVerifier()
	jar, _ := cookiejar.New(nil)
	var cb *url.URL
	c := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), "http://127.0.0.1/cb") {
			cb = r.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cb == nil {
		t.Fatalf("no callback, status %d", resp.StatusCode)
	}
	tok, err := cfg.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	idt := tok.Extra("id_token").(string)
	for _, raw := range []string{payloadOf(idt), userinfo(t, ts.URL, tok.AccessToken)} {
		if !strings.Contains(raw, `"https://myapp.example.com/favorite_color":"blue"`) ||
			!strings.Contains(raw, `"https://myapp.example.com/preferred_contact":"email"`) || !strings.Contains(raw, `"email":"jane@example.com"`) {
			t.Fatalf("claims %s", raw)
		}
	}
}
