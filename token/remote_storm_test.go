package token_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopekit/scopekit/token"
)

// stormJWKS serves a JWKS that can be switched to failing or hanging, and
// counts fetches; the clock is injected.
type stormJWKS struct {
	srv   *httptest.Server
	hits  atomic.Int32
	fail  atomic.Bool
	gate  chan struct{} // when not nil, requests wait on it
	clock atomic.Int64
	rk    *token.RemoteKeys
}

func newStormJWKS(t *testing.T, set *token.KeySet, gate chan struct{}) *stormJWKS {
	s := &stormJWKS{gate: gate}
	body := set.JWKS()
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.hits.Add(1)
		if s.gate != nil && n > 1 {
			<-s.gate
		}
		if s.fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.srv.Close)
	s.clock.Store(time.Now().UnixNano())
	s.rk = &token.RemoteKeys{URL: s.srv.URL, Client: s.srv.Client(), MaxBackoff: 3 * time.Minute,
		Now: func() time.Time { return time.Unix(0, s.clock.Load()) }}
	return s
}

func (s *stormJWKS) advance(d time.Duration) { s.clock.Add(int64(d)) }

func TestRemoteKeysFailingJWKSNoStorm(t *testing.T) {
	ctx := context.Background()
	k := genKey(t, token.ES256)
	s := newStormJWKS(t, token.NewKeySet(k), nil)
	s.fail.Store(true)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.rk.VerificationKey(ctx, k.ID()); err == nil {
				t.Error("a key from a failing JWKS")
			}
		}()
	}
	wg.Wait()
	for i := 0; i < 10; i++ {
		_, _ = s.rk.VerificationKey(ctx, k.ID())
	}
	if n := s.hits.Load(); n != 1 {
		t.Fatalf("%d fetches for 60 lookups against a failing JWKS", n)
	}
	// Backoff: 1, 2, then capped at 3 minutes between fetches.
	for i, wait := range []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, 3 * time.Minute} {
		s.advance(wait - time.Second)
		_, _ = s.rk.VerificationKey(ctx, k.ID())
		if n := s.hits.Load(); n != int32(i+1) {
			t.Fatalf("refetch %v after failure %d: %d fetches", wait-time.Second, i+1, n)
		}
		s.advance(time.Second)
		_, _ = s.rk.VerificationKey(ctx, k.ID())
		if n := s.hits.Load(); n != int32(i+2) {
			t.Fatalf("no refetch %v after failure %d: %d fetches", wait, i+1, n)
		}
	}
	// Recovery serves the key.
	s.fail.Store(false)
	s.advance(3 * time.Minute)
	if _, err := s.rk.VerificationKey(ctx, k.ID()); err != nil {
		t.Fatal(err)
	}
}

func TestRemoteKeysStaleSetServesWhileJWKSFails(t *testing.T) {
	ctx := context.Background()
	k := genKey(t, token.ES256)
	s := newStormJWKS(t, token.NewKeySet(k), nil)
	v := verifier(s.rk, token.ES256)
	raw, _ := k.Sign(token.TypeAccessToken, claims(nil))
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatal(err)
	}
	s.fail.Store(true)
	s.advance(2 * time.Hour) // stale
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(ctx, raw); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := 0; i < 10; i++ {
		if _, err := v.Verify(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.hits.Load(); n > 2 {
		t.Fatalf("%d fetches for 60 verifications of a stale set", n)
	}
}

func TestRemoteKeysSlowJWKSDoesNotBlockKnownKids(t *testing.T) {
	ctx := context.Background()
	k := genKey(t, token.ES256)
	gate := make(chan struct{})
	s := newStormJWKS(t, token.NewKeySet(k), gate)
	t.Cleanup(func() { close(gate) }) // runs before the server closes
	v := verifier(s.rk, token.ES256)
	raw, _ := k.Sign(token.TypeAccessToken, claims(nil))
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatal(err)
	}
	s.advance(2 * time.Hour) // stale: the refetch hangs on the gate
	done := make(chan error, 20)
	for i := 0; i < 20; i++ {
		go func() {
			_, err := v.Verify(ctx, raw)
			done <- err
		}()
	}
	guard := time.After(10 * time.Second) // only the old, blocking code reaches it
	for i := 0; i < 20; i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-guard:
			t.Fatal("verifications of a known kid wait for the JWKS refetch")
		}
	}
}
