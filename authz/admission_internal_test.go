package authz

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
)

// gatedAdmission returns an admission control whose queue deadline fires
// only when the test closes the returned gate.
func gatedAdmission(limit, queue int) (*admission, chan time.Time) {
	a := newAdmission(limit, queue, time.Second)
	gate := make(chan time.Time)
	a.after = func(time.Duration) <-chan time.Time { return gate }
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
