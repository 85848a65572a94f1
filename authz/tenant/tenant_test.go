package tenant_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/tenant"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
	"github.com/scopekit/scopekit/token"
)

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func template() authz.Config {
	return authz.Config{Grants: []authz.Grant{grant.ClientCredentials{}}}
}

func newRegistry(t *testing.T, cfg tenant.Config) *tenant.Registry {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = memory.New()
	}
	if cfg.Template.Grants == nil {
		cfg.Template = template()
	}
	r, err := tenant.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// discovery GETs the RFC 8414 metadata of a tenant through the handler.
func discovery(h http.Handler, target, host string) (int, map[string]any) {
	req := httptest.NewRequest("GET", target, nil)
	if host != "" {
		req.Host = host
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var doc map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &doc)
	return rec.Code, doc
}

func TestConfigRefused(t *testing.T) {
	keys := token.NewKeySet()
	for name, cfg := range map[string]tenant.Config{
		"no store":         {Template: template(), BaseURL: "https://auth.example.com"},
		"no mode":          {Store: memory.New(), Template: template()},
		"both modes":       {Store: memory.New(), Template: template(), BaseURL: "https://a.example.com", Domain: "example.com"},
		"plain http":       {Store: memory.New(), Template: template(), BaseURL: "http://auth.example.com"},
		"query":            {Store: memory.New(), Template: template(), BaseURL: "https://auth.example.com/?x=1"},
		"shared keys":      {Store: memory.New(), Template: authz.Config{Grants: template().Grants, Keys: keys}, BaseURL: "https://auth.example.com"},
		"domain with path": {Store: memory.New(), Template: template(), Domain: "example.com/x"},
		"negative bound":   {Store: memory.New(), Template: template(), Domain: "example.com", MaxServers: -1},
	} {
		if _, err := tenant.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestHostBased(t *testing.T) {
	r := newRegistry(t, tenant.Config{Domain: "Auth.Example.com"})
	if err := r.Create(ctx, &storage.Tenant{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"Acme", "-acme", "acme-", "a.b", "a_b", ""} {
		if err := r.Create(ctx, &storage.Tenant{ID: id}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("host-based id %q: %v", id, err)
		}
	}
	h := r.Handler()
	for _, host := range []string{"acme.auth.example.com", "ACME.Auth.Example.Com:443", "acme.auth.example.com."} {
		status, doc := discovery(h, "/.well-known/oauth-authorization-server", host)
		if status != http.StatusOK || doc["issuer"] != "https://acme.auth.example.com/" {
			t.Fatalf("%s: %d %v", host, status, doc)
		}
	}
	for _, host := range []string{"auth.example.com", "x.acme.auth.example.com", "acme.example.com", "globex.auth.example.com", "evil-auth.example.com"} {
		if status, doc := discovery(h, "/.well-known/oauth-authorization-server", host); status != http.StatusNotFound || doc["error"] != "not_found" {
			t.Fatalf("%s: %d %v", host, status, doc)
		}
	}
}

func TestPathRouting(t *testing.T) {
	r := newRegistry(t, tenant.Config{BaseURL: "https://my.domain.org/_api/auth/"})
	if err := r.Create(ctx, &storage.Tenant{ID: "mytenant", Name: "My tenant"}); err != nil {
		t.Fatal(err)
	}
	if got := r.Issuer("mytenant"); got != "https://my.domain.org/_api/auth/mytenant/" {
		t.Fatalf("issuer %s", got)
	}
	h := r.Handler()
	for _, p := range []string{"/_api/auth/mytenant/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server/_api/auth/mytenant"} {
		if status, doc := discovery(h, p, ""); status != http.StatusOK || doc["issuer"] != r.Issuer("mytenant") {
			t.Fatalf("%s: %d %v", p, status, doc)
		}
	}
	for _, p := range []string{"/_api/auth/other/.well-known/oauth-authorization-server", "/_api/auth/", "/elsewhere/mytenant/", "/.well-known/oauth-authorization-server/_api/auth/mytenant/x"} {
		if status, _ := discovery(h, p, ""); status != http.StatusNotFound {
			t.Fatalf("%s: %d", p, status)
		}
	}
}

func TestEvictedServersAreRebuilt(t *testing.T) {
	r := newRegistry(t, tenant.Config{BaseURL: "https://auth.example.com", MaxServers: 1})
	for _, id := range []string{"a", "b"} {
		if err := r.Create(ctx, &storage.Tenant{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	a1, _ := r.Server(ctx, "a")
	if _, err := r.Server(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	a2, err := r.Server(ctx, "a")
	if err != nil || a2 == a1 || a2.Issuer() != r.Issuer("a") {
		t.Fatalf("a after eviction: %v (same server: %v)", err, a1 == a2)
	}
	if again, _ := r.Server(ctx, "a"); again != a2 {
		t.Fatal("a cached server was rebuilt without eviction")
	}
}

// TestDeleteSeenByAnotherProcess: two registries over one store; a
// deletion at one stops the other within Recheck.
func TestDeleteSeenByAnotherProcess(t *testing.T) {
	store := memory.New()
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	cfg := tenant.Config{Store: store, BaseURL: "https://auth.example.com", Recheck: time.Minute, Now: clk.Now}
	one, two := newRegistry(t, cfg), newRegistry(t, cfg)
	if err := one.Create(ctx, &storage.Tenant{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := two.Server(ctx, "acme"); err != nil {
		t.Fatalf("the other process: %v", err)
	}
	if err := one.Delete(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := one.Server(ctx, "acme"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleting process: %v", err)
	}
	clk.Advance(time.Minute)
	if _, err := two.Server(ctx, "acme"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("other process after Recheck: %v", err)
	}
	if err := two.Create(ctx, &storage.Tenant{ID: "acme"}); !errors.Is(err, storage.ErrDuplicate) {
		t.Fatalf("re-creation of a deleted id: %v", err)
	}
}

func TestFailedCreateLeavesNothing(t *testing.T) {
	store := memory.New()
	boom := errors.New("boom")
	r := newRegistry(t, tenant.Config{Store: store, BaseURL: "https://auth.example.com",
		Bootstrap: func(context.Context, *storage.Tenant, *authz.Server) error { return boom }})
	if err := r.Create(ctx, &storage.Tenant{ID: "acme"}); !errors.Is(err, boom) {
		t.Fatalf("Create: %v", err)
	}
	if _, err := r.Get(ctx, "acme"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("record after a failed Create: %v", err)
	}
	if keys, err := storage.All(ctx, store.Tenant("acme").Keys(), ""); err != nil || len(keys) != 0 {
		t.Fatalf("keys after a failed Create: %d %v", len(keys), err)
	}
	ok := newRegistry(t, tenant.Config{Store: store, BaseURL: "https://auth.example.com"})
	if err := ok.Create(ctx, &storage.Tenant{ID: "acme"}); err != nil {
		t.Fatalf("the id of a failed Create is refused: %v", err)
	}
}

func TestConfigurePerTenant(t *testing.T) {
	r := newRegistry(t, tenant.Config{BaseURL: "https://auth.example.com",
		Configure: func(_ context.Context, rec *storage.Tenant, cfg *authz.Config) error {
			if rec.ID == "bad" {
				cfg.Issuer = "https://elsewhere.example.com/"
			}
			return nil
		}})
	if err := r.Create(ctx, &storage.Tenant{ID: "bad"}); err == nil {
		t.Fatal("a Configure that moves the issuer was accepted")
	}
	if err := r.Create(ctx, &storage.Tenant{ID: "good"}); err != nil {
		t.Fatal(err)
	}
}

func TestRenameIsCompareAndSwap(t *testing.T) {
	r := newRegistry(t, tenant.Config{BaseURL: "https://auth.example.com"})
	rec := &storage.Tenant{ID: "acme", Name: "Acme"}
	if err := r.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	stale := *rec
	rec.Name = "Acme Corp"
	if err := r.Rename(ctx, rec); err != nil {
		t.Fatal(err)
	}
	stale.Name = "Lost update"
	if err := r.Rename(ctx, &stale); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("stale rename: %v", err)
	}
	if got, _ := r.Get(ctx, "acme"); got.Name != "Acme Corp" || !got.CreatedAt.Equal(rec.CreatedAt) {
		t.Fatalf("stored %+v", got)
	}
}
