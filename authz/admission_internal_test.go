package authz

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// gatedAdmission returns an admission control whose queue deadline fires
// only when the test closes the returned gate.
func gatedAdmission(limit, queue int) (*admission, chan time.Time) {
	a := newAdmission(limit, queue, time.Second)
	gate := make(chan time.Time)
	a.timer = func(time.Duration) (<-chan time.Time, func()) { return gate, func() {} }
	return a, gate
}

// waitQueued polls until n requests are queued (a condition, not a delay).
func waitQueued(t *testing.T, a *admission, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for a.queued() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d queued, want %d", a.queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestAdmissionIsFIFO: with one slot, the requests queued behind it are
// admitted in the order they arrived, one at a time.
func TestAdmissionIsFIFO(t *testing.T) {
	a, _ := gatedAdmission(1, 10)
	if err := a.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	order := make(chan int, 5)
	for i := range 5 {
		go func() {
			if err := a.acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			order <- i
		}()
		waitQueued(t, a, i+1) // i is queued before i+1 arrives
	}
	for want := range 5 {
		a.release()
		if got := <-order; got != want {
			t.Fatalf("admitted %d, want %d (arrival order)", got, want)
		}
		if a.inFlight != 1 {
			t.Fatalf("%d in flight, want 1", a.inFlight)
		}
	}
	a.release()
	if a.inFlight != 0 || a.queued() != 0 {
		t.Fatalf("in flight %d, queued %d after all released", a.inFlight, a.queued())
	}
}

// TestAdmissionBounds: no more than the limit run at once, a full queue is
// refused at once with temporarily_unavailable, and a queued request whose
// deadline passes leaves the queue without taking a slot.
func TestAdmissionBounds(t *testing.T) {
	a, gate := gatedAdmission(2, 1)
	for range 2 {
		if err := a.acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	res := make(chan error, 1)
	go func() { res <- a.acquire(context.Background()) }()
	waitQueued(t, a, 1)
	if err := a.acquire(context.Background()); !isUnavailable(err) {
		t.Fatalf("full queue: %v, want temporarily_unavailable", err)
	}
	close(gate) // the queued request's deadline
	if err := <-res; !isUnavailable(err) {
		t.Fatalf("deadline: %v, want temporarily_unavailable", err)
	}
	if a.queued() != 0 || a.inFlight != 2 {
		t.Fatalf("queued %d, in flight %d after the deadline", a.queued(), a.inFlight)
	}
	a.release()
	a.release()
	if a.inFlight != 0 {
		t.Fatalf("in flight %d, want 0", a.inFlight)
	}
}

// TestAdmissionCancelledWaiterPassesSlot: a request cancelled after it was
// admitted hands its slot on instead of leaking it.
func TestAdmissionCancelledWaiterPassesSlot(t *testing.T) {
	a, _ := gatedAdmission(1, 10)
	if err := a.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- a.acquire(ctx) }()
	waitQueued(t, a, 1)
	next := make(chan error, 1)
	go func() { next <- a.acquire(context.Background()) }()
	waitQueued(t, a, 2)
	cancel()
	err := <-res
	if err == nil {
		a.release() // admitted before the cancel was seen
	} else if !isUnavailable(err) {
		t.Fatalf("cancelled: %v", err)
	}
	a.release() // the first holder
	if err := <-next; err != nil {
		t.Fatalf("second waiter: %v", err)
	}
	a.release()
	if a.inFlight != 0 || a.queued() != 0 {
		t.Fatalf("in flight %d, queued %d: a slot leaked", a.inFlight, a.queued())
	}
}

func isUnavailable(err error) bool {
	var e *oauth.Error
	return errors.As(err, &e) && e.Is(oauth.ErrTemporarilyUnavailable)
}

// TestSaturatedSignerAnswers503: a token request that finds every signature
// slot taken and the queue full is answered 503 temporarily_unavailable
// with Retry-After at once, and is served again once the slot is free.
func TestSaturatedSignerAnswers503(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	const api = "https://api.example.com"
	if err := store.APIs().Create(ctx, &storage.API{Identifier: api, Scopes: []storage.Scope{{Name: "read"}}}); err != nil {
		t.Fatal(err)
	}
	s, err := New(ctx, Config{Issuer: "https://auth.example.com/", Store: store, Grants: []Grant{machineGrant{}},
		MaxSigningsInFlight: 1, MaxSigningsQueued: 1})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := s.CreateClient(ctx, &storage.Client{ID: "m", GrantTypes: []string{"client_credentials"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "m", Audience: api, Scopes: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	post := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(url.Values{
			"grant_type": {"client_credentials"}, "audience": {api}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("m", secret)
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		return w
	}
	if err := s.admission.acquire(ctx); err != nil { // the slot in flight
		t.Fatal(err)
	}
	queued := make(chan *httptest.ResponseRecorder, 1)
	go func() { queued <- post() }()
	waitQueued(t, s.admission, 1)
	w := post()
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" ||
		!strings.Contains(w.Body.String(), `"temporarily_unavailable"`) {
		t.Fatalf("saturated: %d %q %s, want 503 temporarily_unavailable with Retry-After", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	s.admission.release()
	if w := <-queued; w.Code != http.StatusOK {
		t.Fatalf("queued request: %d %s", w.Code, w.Body)
	}
	if w := post(); w.Code != http.StatusOK {
		t.Fatalf("after release: %d %s", w.Code, w.Body)
	}
}
