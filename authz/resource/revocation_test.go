package resource_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/token"
)

const (
	issuer = "https://auth.example.com/"
	api    = "https://api.example.com"
)

// checker answers TokenRevoked from its fields and counts the calls.
type checker struct {
	revoked bool
	err     error
	calls   int
}

func (c *checker) TokenRevoked(_ context.Context, family, jti string) (bool, error) {
	c.calls++
	return c.revoked, c.err
}

func newAuthorizer(t *testing.T, rc resource.RevocationChecker) (*resource.Authorizer, string) {
	t.Helper()
	k, err := token.GenerateKey(token.ES256)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	at := &token.AccessToken{Issuer: issuer, Subject: "u1", Audience: []string{api}, ClientID: "app",
		Scope: "read", JTI: "fam.1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	payload, err := at.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := k.Sign(token.TypeAccessToken, payload)
	if err != nil {
		t.Fatal(err)
	}
	a := resource.New(resource.Config{
		Verifier: token.Verifier{Issuer: issuer, Audience: api, Algorithms: []string{token.ES256},
			Keys: token.NewKeySet(k), Types: []string{token.TypeAccessToken}},
		Realm:       "api",
		Revocations: rc,
		Cache:       resource.NewCache(10),
	})
	return a, raw
}

// TestRevocationCheckerFailsClosed: a checker that cannot answer refuses the
// token with 503 temporarily_unavailable and Retry-After, cached or not, and
// its error never reaches the response.
func TestRevocationCheckerFailsClosed(t *testing.T) {
	rc := &checker{}
	a, raw := newAuthorizer(t, rc)
	ctx := context.Background()
	if _, err := a.Authorize(ctx, raw, resource.Requirement{AllOf: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	rc.err = errors.New("backend unreachable at 10.0.0.7")
	_, err := a.Authorize(ctx, raw, resource.Requirement{})
	if !errors.Is(err, oauth.ErrTemporarilyUnavailable) {
		t.Fatalf("cached token with a failing checker: %v", err)
	}
	h := a.RequireScopes("read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Fatal("handler reached")
	}))
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+raw)
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" ||
		w.Header().Get("WWW-Authenticate") != `Bearer realm="api"` {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	if body := w.Body.String(); body != `{"error":"temporarily_unavailable"}`+"\n" {
		t.Fatalf("body %q", body)
	}
	rc.err, rc.revoked = nil, true
	if _, err := a.Authorize(ctx, raw, resource.Requirement{}); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("revoked token: %v", err)
	}
	if rc.calls != 4 {
		t.Fatalf("%d revocation checks for 4 presentations: a cached token skipped one", rc.calls)
	}
}

// TestNoCheckerNoLookup: an authorizer without a checker (a remote issuer's)
// accepts a valid token.
func TestNoCheckerNoLookup(t *testing.T) {
	a, raw := newAuthorizer(t, nil)
	p, err := a.Authorize(context.Background(), raw, resource.Requirement{AnyOf: []string{"write", "read"}})
	if err != nil || p.Subject != "u1" || p.ClientID != "app" || !p.HasScope("read") {
		t.Fatalf("%+v %v", p, err)
	}
	if a.Audience() != api {
		t.Fatal(a.Audience())
	}
}
