package token_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopekit/scopekit/token"
)

type jwksServer struct {
	*httptest.Server
	hits atomic.Int32
	mu   sync.Mutex
	body []byte
}

func newJWKSServer(t *testing.T, set *token.KeySet) *jwksServer {
	s := &jwksServer{body: set.JWKS()}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		_, _ = w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(b []byte) {
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

func TestRemoteKeys(t *testing.T) {
	ctx := context.Background()
	k1 := genKey(t, token.RS256)
	set := token.NewKeySet(k1)
	srv := newJWKSServer(t, set)
	now := time.Now()
	clock := func() time.Time { return now }
	rk := &token.RemoteKeys{URL: srv.URL, Client: srv.Client(), Now: clock}
	v := verifier(rk, token.RS256)
	raw, _ := k1.Sign(token.TypeAccessToken, claims(nil))

	t.Run("fetch once then cache", func(t *testing.T) {
		for i := 0; i < 5; i++ {
			if _, err := v.Verify(ctx, raw); err != nil {
				t.Fatal(err)
			}
		}
		if n := srv.hits.Load(); n != 1 {
			t.Fatalf("%d fetches for one key", n)
		}
	})
	t.Run("unknown kids refetch at most once per interval", func(t *testing.T) {
		before := srv.hits.Load()
		for i := 0; i < 20; i++ {
			if _, err := rk.VerificationKey(ctx, "made-up-"+strings.Repeat("x", i)); !errors.Is(err, token.ErrUnknownKey) {
				t.Fatalf("err = %v", err)
			}
		}
		if n := srv.hits.Load() - before; n > 1 {
			t.Fatalf("%d fetches for a flood of unknown kids", n)
		}
	})
	t.Run("rotation is picked up after the interval", func(t *testing.T) {
		k2 := genKey(t, token.RS256)
		set.Add(k2)
		srv.serve(set.JWKS())
		raw2, _ := k2.Sign(token.TypeAccessToken, claims(nil))
		now = now.Add(2 * time.Minute)
		if _, err := v.Verify(ctx, raw2); err != nil {
			t.Fatalf("new key not fetched: %v", err)
		}
	})
	t.Run("concurrent misses share one fetch", func(t *testing.T) {
		now = now.Add(2 * time.Minute)
		before := srv.hits.Load()
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = rk.VerificationKey(ctx, "another-unknown") }()
		}
		wg.Wait()
		if n := srv.hits.Load() - before; n != 1 {
			t.Fatalf("%d fetches for concurrent misses", n)
		}
	})
	t.Run("oversized body refused", func(t *testing.T) {
		srv.serve([]byte(`{"keys":[` + strings.Repeat(" ", 2<<20) + `]}`))
		fresh := &token.RemoteKeys{URL: srv.URL, Client: srv.Client()}
		if _, err := fresh.VerificationKey(ctx, k1.ID()); err == nil || errors.Is(err, token.ErrUnknownKey) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("server down", func(t *testing.T) {
		down := &token.RemoteKeys{URL: "http://127.0.0.1:1/jwks", Client: &http.Client{Timeout: time.Second}}
		if _, err := down.VerificationKey(ctx, k1.ID()); err == nil {
			t.Fatal("no error with the issuer down")
		}
	})
}

// TestRemoteKeysMaxAgeFloor: an issuer answering max-age=0 does not make
// every verification refetch the JWKS; past MinRefresh the set is refetched
// and a kid gone from it stops verifying.
func TestRemoteKeysMaxAgeFloor(t *testing.T) {
	ctx := context.Background()
	k := genKey(t, token.ES256)
	set := token.NewKeySet(k)
	var hits atomic.Int32
	var mu sync.Mutex
	body := set.JWKS()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Cache-Control", "max-age=0")
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	now := time.Now()
	rk := &token.RemoteKeys{URL: srv.URL, Client: srv.Client(), Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}}
	raw, _ := k.Sign(token.TypeAccessToken, claims(nil))
	v := verifier(rk, token.ES256)
	for i := 0; i < 10; i++ {
		if _, err := v.Verify(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("%d fetches for 10 verifications with max-age=0", n)
	}
	set.Remove(k.ID())
	mu.Lock()
	body = set.JWKS()
	mu.Unlock()
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	// The stale set serves its kid while the refetch runs in the background;
	// once it lands, the kid is gone.
	deadline := time.Now().Add(10 * time.Second)
	for _, err := v.Verify(ctx, raw); !errors.Is(err, token.ErrUnknownKey); _, err = v.Verify(ctx, raw) {
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("kid gone from the refetched set: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}
