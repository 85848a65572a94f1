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

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// probe asks h for readiness and returns the status, the decoded body and
// the raw body.
func probe(t *testing.T, h http.Handler, method string) (*http.Response, map[string]any, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, "/readyz", nil))
	resp := rec.Result()
	var body map[string]any
	if method == http.MethodGet && resp.StatusCode != http.StatusMethodNotAllowed {
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("readiness body %q: %v", rec.Body.String(), err)
		}
	}
	return resp, body, rec.Body.String()
}

// TestReadinessMemory: an issuer over the memory store is ready, answers
// HEAD as GET, and refuses other methods.
func TestReadinessMemory(t *testing.T) {
	f := newFixture(t)
	if err := f.srv.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	h := f.srv.ReadinessHandler()
	resp, body, _ := probe(t, h, http.MethodGet)
	if resp.StatusCode != 200 || body["status"] != "ok" || body["checks"] != nil || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %v %v", resp.StatusCode, body, resp.Header)
	}
	if resp, _, _ := probe(t, h, http.MethodHead); resp.StatusCode != 200 {
		t.Fatalf("HEAD: %d", resp.StatusCode)
	}
	if resp, _, _ := probe(t, h, http.MethodPost); resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST: %d %v", resp.StatusCode, resp.Header)
	}
}

// keysDownStore fails every read of the signing keys while down, and has
// no storage.Checker, so the store itself is probed with a read.
type keysDownStore struct {
	storage.Store
	keysDown, clientsDown bool
}

func (s *keysDownStore) Keys() storage.Collection[storage.SigningKey] {
	if s.keysDown {
		return downKeys{s.Store.Keys()}
	}
	return s.Store.Keys()
}

func (s *keysDownStore) Clients() storage.Collection[storage.Client] {
	if s.clientsDown {
		return downClients{s.Store.Clients()}
	}
	return s.Store.Clients()
}

// WithClock keeps the wrapper in front of the view the server clocks.
func (s *keysDownStore) WithClock(now func() time.Time) storage.Store {
	s.Store = s.Store.WithClock(now)
	return s
}

type downKeys struct {
	storage.Collection[storage.SigningKey]
}

func (downKeys) List(context.Context, storage.ListQuery) (storage.Page[storage.SigningKey], error) {
	return storage.Page[storage.SigningKey]{}, errors.Join(storage.ErrUnavailable, errDown)
}

type downClients struct {
	storage.Collection[storage.Client]
}

func (downClients) Get(context.Context, string) (*storage.Client, error) {
	return nil, errors.Join(storage.ErrUnavailable, errDown)
}

// TestReadinessFailingKeysAndStore: once the last good key reload is older
// than Config.KeyReloadInterval and reloading fails, the issuer is not
// ready (503, Retry-After, the failed check named, no internal text); a
// store without storage.Checker that fails a read is not ready either; both
// recover.
func TestReadinessFailingKeysAndStore(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	st := &keysDownStore{Store: memory.New()}
	srv, err := authz.New(ctx, authz.Config{Issuer: "https://auth.example.com/", Store: st, Now: clk.Now,
		Grants: []authz.Grant{grant.ClientCredentials{}}, KeyReloadInterval: time.Minute})
	must(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	h := srv.ReadinessHandler()

	st.keysDown = true
	if resp, _, _ := probe(t, h, http.MethodGet); resp.StatusCode != 200 {
		t.Fatalf("keys reloaded %v ago are fresh: %d", time.Duration(0), resp.StatusCode)
	}
	clk.t = clk.t.Add(2 * time.Minute)
	unready := func(want map[string]any) {
		t.Helper()
		resp, body, raw := probe(t, h, http.MethodGet)
		if resp.StatusCode != 503 || body["status"] != "unavailable" || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%d %v %v", resp.StatusCode, body, resp.Header)
		}
		checks, _ := body["checks"].(map[string]any)
		for k, v := range want {
			if checks[k] != v {
				t.Fatalf("checks %v, want %s=%v", checks, k, v)
			}
		}
		if strings.Contains(raw, "10.0.0.7") || strings.Contains(raw, "refused") {
			t.Fatalf("internal text leaks: %s", raw)
		}
	}
	unready(map[string]any{"keys": "unavailable", "store": "ok"})
	if err := srv.Check(ctx); !errors.Is(err, storage.ErrUnavailable) || !strings.Contains(err.Error(), "keys") {
		t.Fatalf("Check: %v", err)
	}

	st.keysDown, st.clientsDown = false, true
	unready(map[string]any{"keys": "ok", "store": "unavailable"})

	st.clientsDown = false
	if resp, body, _ := probe(t, h, http.MethodGet); resp.StatusCode != 200 || body["status"] != "ok" {
		t.Fatalf("recovered: %d %v", resp.StatusCode, body)
	}
}
