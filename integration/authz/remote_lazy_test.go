package authz_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
)

// TestRemoteLazyStartsBeforeIssuer: with Lazy, NewRemote succeeds while the
// issuer is down (the eager default fails), bearer requests fail closed
// with 503 temporarily_unavailable and Retry-After (never 200, never 401),
// and once the issuer listens the same authorizer accepts its tokens.
func TestRemoteLazyStartsBeforeIssuer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	must(t, ln.Close()) // the issuer listens on addr later
	clk := newTestClock()
	f := newFixture(t, withClock(clk), func(c *authz.Config) { c.Issuer = "http://" + addr + "/" })
	ctx := context.Background()
	cfg := resource.RemoteConfig{Issuer: f.srv.Issuer(), Audience: usersAPI, Now: clk.Now,
		HTTPClient: &http.Client{Timeout: 2 * time.Second}}
	if _, err := resource.NewRemote(ctx, cfg); err == nil {
		t.Fatal("an eager NewRemote succeeded with the issuer down")
	}
	cfg.Lazy = true
	rs, err := resource.NewRemote(ctx, cfg)
	must(t, err)
	tok := f.issue(t, usersAPI).AccessToken
	req := resource.Requirement{AllOf: []string{"read:users"}}
	if _, err := rs.Authorize(ctx, tok, req); !errors.Is(err, oauth.ErrTemporarilyUnavailable) {
		t.Fatalf("issuer down: %v", err)
	}
	api := rs.Require(req)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	rec := httpRoundTrip(t, api, http.MethodGet, "/", tok)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("issuer down, over HTTP: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}

	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("reopening the issuer's port %s: %v", addr, err)
	}
	issuer := &http.Server{Handler: f.srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = issuer.Serve(ln) }()
	t.Cleanup(func() { _ = issuer.Close() })

	// Each attempt moves the clock past the retry wait, so it fetches again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		clk.add(6 * time.Second)
		_, err := rs.Authorize(ctx, tok, req)
		if err == nil {
			break
		}
		if !errors.Is(err, oauth.ErrTemporarilyUnavailable) || time.Now().After(deadline) {
			t.Fatalf("issuer up: %v", err)
		}
	}
	if rec := httpRoundTrip(t, api, http.MethodGet, "/", tok); rec.Code != http.StatusNoContent {
		t.Fatalf("issuer up, over HTTP: %d %s", rec.Code, rec.Body)
	}
	if _, err := rs.Authorize(ctx, tok+"x", req); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("a bad signature once the keys are known: %v", err)
	}
}
