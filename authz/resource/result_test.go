package resource_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
)

// TestResultHook: the hook sees every Authorize, the middleware's included,
// with its error and whether the verified-token cache answered; the
// authorizer it was added to is left without it.
func TestResultHook(t *testing.T) {
	base, raw := newAuthorizer(t, nil)
	var got []resource.Result
	a := base.WithResultHook(func(_ context.Context, r resource.Result) { got = append(got, r) })
	ctx := context.Background()
	if _, err := a.Authorize(ctx, raw, resource.Requirement{AllOf: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authorize(ctx, raw, resource.Requirement{AllOf: []string{"write"}}); !errors.Is(err, oauth.ErrInsufficientScope) {
		t.Fatalf("missing scope: %v", err)
	}
	if _, err := a.Authorize(ctx, "not-a-token", resource.Requirement{}); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("bad token: %v", err)
	}
	h := a.RequireScopes("read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+raw)
	h.ServeHTTP(httptest.NewRecorder(), r)
	if _, err := base.Authorize(ctx, raw, resource.Requirement{}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("hook called %d times, want 4: %+v", len(got), got)
	}
	if got[0].Err != nil || got[0].Cached {
		t.Errorf("first call: %+v, want accepted and verified", got[0])
	}
	if !errors.Is(got[1].Err, oauth.ErrInsufficientScope) || !got[1].Cached {
		t.Errorf("second call: %+v, want insufficient_scope from the cache", got[1])
	}
	if !errors.Is(got[2].Err, oauth.ErrInvalidToken) || got[2].Cached {
		t.Errorf("bad token: %+v", got[2])
	}
	if got[3].Err != nil || !got[3].Cached {
		t.Errorf("middleware call: %+v, want accepted from the cache", got[3])
	}
}
