package authz_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/token"
)

// TestRemoteAuthorizerRequiresAccessTokenType: a JWT the issuer signed
// with its keys but of another type (an ID token, typ JWT) is not an access
// token (RFC 9068 §4, RFC 8725 §3.11).
func TestRemoteAuthorizerRequiresAccessTokenType(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rs, err := resource.NewRemote(ctx, resource.RemoteConfig{Issuer: f.srv.Issuer(), Audience: usersAPI})
	must(t, err)
	k, err := f.srv.Keys().Signer(token.RS256)
	must(t, err)
	payload, err := json.Marshal(f.validClaims())
	must(t, err)
	for _, typ := range []string{"JWT", "", "application/jwt", "id+jwt"} {
		raw, err := k.Sign(typ, payload)
		must(t, err)
		if _, err := rs.Authorize(ctx, raw, resource.Requirement{}); !errors.Is(err, oauth.ErrInvalidToken) {
			t.Fatalf("typ %q accepted: %v", typ, err)
		}
	}
	for _, typ := range []string{token.TypeAccessToken, "application/at+jwt", "AT+JWT"} {
		raw, err := k.Sign(typ, payload)
		must(t, err)
		if _, err := rs.Authorize(ctx, raw, resource.Requirement{}); err != nil {
			t.Fatalf("typ %q refused: %v", typ, err)
		}
	}
}

// metadataServer answers discovery with the given issuer and jwks_uri.
func metadataServer(t *testing.T, tls bool, meta func(self string) map[string]string) *httptest.Server {
	t.Helper()
	var ts *httptest.Server
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(meta(ts.URL))
	})
	if tls {
		ts = httptest.NewTLSServer(h)
	} else {
		ts = httptest.NewServer(h)
	}
	t.Cleanup(ts.Close)
	return ts
}

func TestRemoteDiscoveryChecks(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		tls  bool
		meta func(self string) map[string]string
		ok   bool
	}{
		{"https issuer, https jwks", true, func(s string) map[string]string {
			return map[string]string{"issuer": s, "jwks_uri": "https://keys.example.com/jwks.json"}
		}, true},
		{"https issuer, http jwks elsewhere", true, func(s string) map[string]string {
			return map[string]string{"issuer": s, "jwks_uri": "http://keys.example.com/jwks.json"}
		}, false},
		{"loopback http issuer and jwks", false, func(s string) map[string]string {
			return map[string]string{"issuer": s, "jwks_uri": s + "/jwks.json"}
		}, true},
		{"loopback http issuer, http jwks elsewhere", false, func(s string) map[string]string {
			return map[string]string{"issuer": s, "jwks_uri": "http://keys.example.com/jwks.json"}
		}, false},
		{"relative jwks", true, func(s string) map[string]string {
			return map[string]string{"issuer": s, "jwks_uri": "/jwks.json"}
		}, false},
		{"no jwks", true, func(s string) map[string]string { return map[string]string{"issuer": s} }, false},
		{"issuer with a trailing slash", true, func(s string) map[string]string {
			return map[string]string{"issuer": s + "/", "jwks_uri": s + "/jwks.json"}
		}, false},
		{"another issuer", true, func(s string) map[string]string {
			return map[string]string{"issuer": "https://evil.example.com", "jwks_uri": s + "/jwks.json"}
		}, false},
		{"issuer in another case", true, func(s string) map[string]string {
			return map[string]string{"issuer": strings.ToUpper(s), "jwks_uri": s + "/jwks.json"}
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := metadataServer(t, tc.tls, tc.meta)
			_, err := resource.NewRemote(ctx, resource.RemoteConfig{Issuer: ts.URL, Audience: usersAPI, HTTPClient: ts.Client()})
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	t.Run("plain http issuer off loopback", func(t *testing.T) {
		_, err := resource.NewRemote(ctx, resource.RemoteConfig{Issuer: "http://auth.example.com/", Audience: usersAPI,
			HTTPClient: &http.Client{Transport: failTransport{t}}})
		if err == nil {
			t.Fatal("http issuer accepted")
		}
	})
}

// failTransport fails the test if a request is made.
type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request to %s", r.URL)
	return nil, errors.New("no request expected")
}

// TestRemoteAuthorizerDropsRemovedKid: once the issuer's JWKS no longer
// holds a kid, that kid's tokens stop passing at the next refetch, even the
// ones the authorizer had cached as verified.
func TestRemoteAuthorizerDropsRemovedKid(t *testing.T) {
	clk := newTestClock()
	f := newFixture(t, withClock(clk))
	ctx := context.Background()
	rs, err := resource.NewRemote(ctx, resource.RemoteConfig{Issuer: f.srv.Issuer(), Audience: usersAPI, Now: clk.Now})
	must(t, err)
	tok := f.issue(t, usersAPI).AccessToken
	req := resource.Requirement{AllOf: []string{"read:users"}}
	if _, err := rs.Authorize(ctx, tok, req); err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(10, func() { _, _ = rs.Authorize(ctx, tok, req) }); allocs != 0 {
		t.Fatalf("remote repeat not cached: %v allocations", allocs)
	}
	must(t, f.srv.RemoveKey(ctx, kidOf(t, tok)))
	// The JWKS is served with max-age=300: past it the authorizer refetches.
	clk.add(301 * time.Second)
	// The stale set serves its kid while the refetch runs in the background;
	// once it lands, the kid's tokens fail.
	deadline := time.Now().Add(10 * time.Second)
	for _, err := rs.Authorize(ctx, tok, req); !errors.Is(err, oauth.ErrInvalidToken); _, err = rs.Authorize(ctx, tok, req) {
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("cached token of a kid gone from the JWKS: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	// A token of the new key still passes.
	tok2 := f.issue(t, usersAPI).AccessToken
	clk.add(2 * time.Minute) // past the unknown-kid refetch interval
	if _, err := rs.Authorize(ctx, tok2, req); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Authorize(ctx, tok, req); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("token of the removed kid: %v", err)
	}
}
