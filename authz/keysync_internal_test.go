package authz

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
	"github.com/scopekit/scopekit/token"
)

const (
	syncAPI      = "https://api.example.com"
	syncInterval = 10 * time.Second
	syncDelay    = 2 * time.Minute
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// flakyStore fails every read and write of the signing keys while down.
type flakyStore struct {
	storage.Store
	down *atomic.Bool
}

func (s flakyStore) Keys() storage.Collection[storage.SigningKey] {
	return flakyKeys{s.Store.Keys(), s.down}
}

func (s flakyStore) WithClock(now func() time.Time) storage.Store {
	return flakyStore{s.Store.WithClock(now), s.down}
}

type flakyKeys struct {
	storage.Collection[storage.SigningKey]
	down *atomic.Bool
}

var errKeysDown = errors.New("storage: backend unavailable: test outage")

func (k flakyKeys) List(ctx context.Context, q storage.ListQuery) (storage.Page[storage.SigningKey], error) {
	if k.down.Load() {
		return storage.Page[storage.SigningKey]{}, errors.Join(storage.ErrUnavailable, errKeysDown)
	}
	return k.Collection.List(ctx, q)
}

// replicas is a store shared by issuer replicas with one clock.
type replicas struct {
	t      *testing.T
	store  storage.Store
	clk    *fakeClock
	secret string
	logs   *bytes.Buffer
	logMu  sync.Mutex
}

func newReplicas(t *testing.T, store storage.Store) *replicas {
	t.Helper()
	ctx := context.Background()
	r := &replicas{t: t, store: store, clk: &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, logs: &bytes.Buffer{}}
	if err := store.APIs().Create(ctx, &storage.API{Identifier: syncAPI, Scopes: []storage.Scope{{Name: "read"}}}); err != nil {
		t.Fatal(err)
	}
	a := r.replica()
	var err error
	if r.secret, err = a.CreateClient(ctx, &storage.Client{ID: "m", GrantTypes: []string{"client_credentials"}}); err != nil {
		t.Fatal(err)
	}
	if err := store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "m", Audience: syncAPI, Scopes: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	return r
}

// Write implements io.Writer for the replicas' logger.
func (r *replicas) Write(p []byte) (int, error) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	return r.logs.Write(p)
}

func (r *replicas) logged() string {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	return r.logs.String()
}

// replica starts one more server over the store.
func (r *replicas) replica() *Server {
	r.t.Helper()
	s, err := New(context.Background(), Config{Issuer: "https://auth.example.com/", Store: r.store, Grants: []Grant{machineGrant{}},
		Now: r.clk.now, KeyReloadInterval: syncInterval, KeyPublishDelay: syncDelay,
		Logger: slog.New(slog.NewTextHandler(r, nil))})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { _ = s.Close() })
	return s
}

// issue returns an access token of s and the kid that signed it.
func (r *replicas) issue(s *Server) (string, string, error) {
	resp, err := s.Issue(context.Background(), &TokenRequest{GrantType: "client_credentials", ClientID: "m",
		ClientSecret: r.secret, AuthMethod: oauth.AuthBasic, Audience: syncAPI})
	if err != nil {
		return "", "", err
	}
	return resp.AccessToken, kidOfToken(r.t, resp.AccessToken), nil
}

func (r *replicas) mustIssue(s *Server) (string, string) {
	r.t.Helper()
	tok, kid, err := r.issue(s)
	if err != nil {
		r.t.Fatal(err)
	}
	return tok, kid
}

func kidOfToken(t *testing.T, raw string) string {
	t.Helper()
	h, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	var hdr struct{ Kid string }
	if err == nil {
		err = json.Unmarshal(b, &hdr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return hdr.Kid
}

func authorizeAt(s *Server, tok string) error {
	_, err := s.Authorizer(syncAPI).Authorize(context.Background(), tok, resource.Requirement{})
	return err
}

// TestRotationAcrossReplicas: a key rotated at replica A is published at
// replica B within the reload interval, signs nowhere before the publish
// delay (the old key signs meanwhile), and then signs at both; every token
// of either replica verifies at the other at every step.
func TestRotationAcrossReplicas(t *testing.T) {
	r := newReplicas(t, memory.New())
	a, b := r.replica(), r.replica()
	_, k0 := r.mustIssue(a)
	k1, err := a.RotateKey(context.Background(), token.RS256)
	if err != nil {
		t.Fatal(err)
	}
	step := syncInterval / 2
	for elapsed := time.Duration(0); elapsed <= syncDelay+syncInterval; elapsed += step {
		for _, pair := range [][2]*Server{{a, b}, {b, a}} {
			tok, kid, err := r.issue(pair[0])
			if err != nil {
				t.Fatalf("at +%v: issuance: %v", elapsed, err)
			}
			if err := authorizeAt(pair[1], tok); err != nil {
				t.Fatalf("at +%v: a token of one replica refused at the other: %v", elapsed, err)
			}
			if want := k0; elapsed < syncDelay && kid != want {
				t.Fatalf("at +%v: signed with %s during the publish delay, want the previous key %s", elapsed, kid, want)
			}
			if elapsed >= syncDelay && kid != k1 {
				t.Fatalf("at +%v: signed with %s after the publish delay, want the new key %s", elapsed, kid, k1)
			}
		}
		if elapsed >= syncInterval && !bytes.Contains(b.Keys().JWKS(), []byte(k1)) {
			t.Fatalf("at +%v: replica B does not publish the rotated key", elapsed)
		}
		r.clk.add(step)
	}
}

// TestRetireAcrossReplicas: a key retired at one replica stops signing at
// every replica within the interval, and the replicas agree on one
// successor.
func TestRetireAcrossReplicas(t *testing.T) {
	r := newReplicas(t, memory.New())
	a, b := r.replica(), r.replica()
	_, k0 := r.mustIssue(b)
	if err := a.RetireKey(context.Background(), k0); err != nil {
		t.Fatal(err)
	}
	r.clk.add(syncInterval)
	_, ka := r.mustIssue(a)
	_, kb := r.mustIssue(b)
	if ka == k0 || kb == k0 {
		t.Fatalf("a retired key still signs: %s %s", ka, kb)
	}
	if ka != kb {
		t.Fatalf("replicas sign with different successors %s and %s", ka, kb)
	}
	if n := countKeys(t, r.store, token.RS256); n != 2 {
		t.Fatalf("%d RS256 keys stored, want the retired one and one successor", n)
	}
}

// TestRemoveAcrossReplicas: an emergency removal (rotate, then remove)
// stops the key at every replica within the interval, tokens cached as
// verified included, and its JWKS no longer publishes it.
func TestRemoveAcrossReplicas(t *testing.T) {
	r := newReplicas(t, memory.New())
	a, b := r.replica(), r.replica()
	tok, k0 := r.mustIssue(a)
	if err := authorizeAt(b, tok); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k1, err := a.RotateKey(ctx, token.RS256)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.RemoveKey(ctx, k0); err != nil {
		t.Fatal(err)
	}
	if err := authorizeAt(a, tok); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("replica A after removal: %v", err)
	}
	if _, kid := r.mustIssue(a); kid != k1 {
		t.Fatalf("after removing the signer A signs with %s, want the rotated key %s", kid, k1)
	}
	r.clk.add(syncInterval)
	if err := authorizeAt(b, tok); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("replica B after a reload: %v", err)
	}
	if bytes.Contains(b.Keys().JWKS(), []byte(k0)) {
		t.Fatal("replica B still publishes the removed key")
	}
	if _, kid := r.mustIssue(b); kid != k1 {
		t.Fatalf("B signs with %s, want %s", kid, k1)
	}
}

// TestFreshReplicaSignsNewest: a replica started over a store of several
// keys signs with the newest (by creation, whatever the kids' order).
func TestFreshReplicaSignsNewest(t *testing.T) {
	r := newReplicas(t, memory.New())
	a := r.replica()
	var newest string
	for i := 0; i < 4; i++ {
		kid, err := a.RotateKey(context.Background(), token.RS256)
		if err != nil {
			t.Fatal(err)
		}
		newest = kid
		r.clk.add(time.Second)
	}
	r.clk.add(syncDelay)
	for i := 0; i < 3; i++ {
		if _, kid := r.mustIssue(r.replica()); kid != newest {
			t.Fatalf("a fresh replica signs with %s, want the newest key %s", kid, newest)
		}
	}
	if _, kid := r.mustIssue(a); kid != newest {
		t.Fatalf("the rotating replica signs with %s, want %s", kid, newest)
	}
}

// TestConcurrentFirstStarts: replicas started at once over an empty store
// create one RS256 key, and their concurrent first use of ES256 one ES256
// key.
func TestConcurrentFirstStarts(t *testing.T) {
	store := memory.New()
	const n = 8
	servers := make([]*Server, n)
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := New(context.Background(), Config{Issuer: "https://auth.example.com/", Store: store, Grants: []Grant{refuseAll{}}, KeyReloadInterval: time.Hour})
			if err != nil {
				errs <- err
				return
			}
			servers[i] = s
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, s := range servers {
		t.Cleanup(func() { _ = s.Close() })
	}
	if c := countKeys(t, store, token.RS256); c != 1 {
		t.Fatalf("%d concurrent first starts created %d RS256 keys, want 1", n, c)
	}
	kids := make([]string, n)
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if k, err := s.signer(context.Background(), token.ES256); err == nil {
				kids[i] = k.ID()
			}
		}()
	}
	wg.Wait()
	if c := countKeys(t, store, token.ES256); c != 1 {
		t.Fatalf("concurrent first uses of ES256 created %d keys, want 1", c)
	}
	for _, kid := range kids {
		if kid != kids[0] || kid == "" {
			t.Fatalf("replicas sign ES256 with %v, want one key", kids)
		}
	}
}

func countKeys(t *testing.T, store storage.Store, alg string) int {
	t.Helper()
	recs, err := storage.All(context.Background(), store.Keys(), "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rec := range recs {
		if rec.Alg == alg {
			n++
		}
	}
	return n
}

// TestKeyReloadOutage: when the keys are due for a reload and the store
// fails, Authorize, issuance and the JWKS answer temporarily_unavailable
// (503 with Retry-After), the failure is logged with its cause, and the
// first request after the store is back succeeds.
func TestKeyReloadOutage(t *testing.T) {
	down := &atomic.Bool{}
	r := newReplicas(t, flakyStore{memory.New(), down})
	a, b := r.replica(), r.replica()
	tok, _ := r.mustIssue(a)
	if err := authorizeAt(b, tok); err != nil {
		t.Fatal(err)
	}
	down.Store(true)
	r.clk.add(syncInterval)
	if err := authorizeAt(b, tok); AsError(err).Code != oauth.ErrTemporarilyUnavailable.String() {
		t.Fatalf("Authorize during the outage: %v, want temporarily_unavailable", err)
	}
	if _, _, err := r.issue(b); AsError(err).Code != oauth.ErrTemporarilyUnavailable.String() {
		t.Fatalf("issuance during the outage: %v, want temporarily_unavailable", err)
	}
	rec := httptest.NewRecorder()
	b.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://auth.example.com/.well-known/jwks.json", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("JWKS during the outage: %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if logs := r.logged(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "test outage") {
		t.Fatalf("the failed reload was not logged with its cause:\n%s", logs)
	}
	down.Store(false)
	if err := authorizeAt(b, tok); err != nil {
		t.Fatalf("the first request after the outage: %v", err)
	}
	if _, _, err := r.issue(b); err != nil {
		t.Fatalf("issuance after the outage: %v", err)
	}
}

// TestJWKSMaxAge: the JWKS is never cached longer than the reload bound.
func TestJWKSMaxAge(t *testing.T) {
	r := newReplicas(t, memory.New())
	rec := httptest.NewRecorder()
	r.replica().Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://auth.example.com/.well-known/jwks.json", nil))
	if got := rec.Header().Get("Cache-Control"); got != "public, max-age=10" {
		t.Fatalf("Cache-Control %q, want max-age of the 10 s reload interval", got)
	}
}

// TestErrorPageRetryAfter: the authorization endpoint's error page says
// when to retry a 503.
func TestErrorPageRetryAfter(t *testing.T) {
	s := newReviseServer(t, memory.New())
	t.Cleanup(func() { _ = s.Close() })
	rec := httptest.NewRecorder()
	s.errorPage(rec, httptest.NewRequest("GET", "/authorize", nil), oauth.ErrTemporarilyUnavailable)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("error page: %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}
