package authz

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/token"
)

// errSignerBusy is the cause of the 503 answered when the signer's queue is
// full or a queued request's deadline passed (Config.MaxSigningsInFlight).
var errSignerBusy = errors.New("authz: signer saturated: too many signatures in flight and queued")

// admission bounds the signatures in flight and queues the rest in arrival
// order: a ticket queue, not a buffered channel, whose waiters Go wakes in
// no particular order, so that under contention an early request is not
// overtaken by later ones and the tail stays short. Beyond the queue's
// bound, or after a queued request's deadline, the request is refused
// (503 temporarily_unavailable with Retry-After) instead of waiting on.
// A nil *admission admits everything.
type admission struct {
	mu       sync.Mutex
	limit    int
	inFlight int
	maxQueue int
	wait     time.Duration
	queue    []*ticket
	// timer starts a queued request's deadline and returns its channel and
	// its stop; tests inject a gate.
	timer func(time.Duration) (<-chan time.Time, func())
}

// ticket is one queued request; ready is closed when it is admitted.
type ticket struct {
	ready    chan struct{}
	admitted bool
}

// newAdmission returns the admission control of limit signatures in flight
// with at most maxQueue waiting, each at most wait; nil when limit < 0.
func newAdmission(limit, maxQueue int, wait time.Duration) *admission {
	if limit < 0 {
		return nil
	}
	return &admission{limit: limit, maxQueue: maxQueue, wait: wait, timer: newTimer}
}

// acquire admits the caller at once, or queues it behind those that came
// first; it fails with temporarily_unavailable when the queue is full, the
// deadline passes or ctx ends first. Every successful acquire is paired
// with one release.
func (a *admission) acquire(ctx context.Context) error {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	if a.inFlight < a.limit && len(a.queue) == 0 {
		a.inFlight++
		a.mu.Unlock()
		return nil
	}
	if len(a.queue) >= a.maxQueue {
		a.mu.Unlock()
		return oauth.ErrTemporarilyUnavailable.WithCause(errSignerBusy)
	}
	t := &ticket{ready: make(chan struct{})}
	a.queue = append(a.queue, t)
	a.mu.Unlock()
	var err error
	deadline, stop := a.timer(a.wait)
	defer stop()
	select {
	case <-t.ready:
		return nil
	case <-deadline:
		err = oauth.ErrTemporarilyUnavailable.WithCause(errSignerBusy)
	case <-ctx.Done():
		err = oauth.ErrTemporarilyUnavailable.WithCause(ctx.Err())
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if t.admitted {
		// Admitted while giving up: the slot is passed on, not lost.
		a.releaseLocked()
		return err
	}
	for i, q := range a.queue {
		if q == t {
			a.queue = append(a.queue[:i], a.queue[i+1:]...)
			break
		}
	}
	return err
}

// release ends a signature: the first queued ticket takes its slot.
// newTimer is the timer of a queued request, stopped once it is admitted
// or gives up, so that a saturated signer does not keep a timer running for
// every request it served.
func newTimer(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

func (a *admission) release() {
	if a == nil {
		return
	}
	a.mu.Lock()
	a.releaseLocked()
	a.mu.Unlock()
}

func (a *admission) releaseLocked() {
	if len(a.queue) == 0 {
		a.inFlight--
		return
	}
	t := a.queue[0]
	a.queue[0] = nil
	a.queue = a.queue[1:]
	t.admitted = true
	close(t.ready)
}

// queued returns the number of waiting requests.
func (a *admission) queued() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.queue)
}

// sign signs payload with key once admitted (Config.MaxSigningsInFlight).
func (s *Server) sign(ctx context.Context, key *token.Key, typ string, payload []byte) (string, error) {
	if err := s.admission.acquire(ctx); err != nil {
		return "", err
	}
	defer s.admission.release()
	return key.Sign(typ, payload)
}

// admissionDefaults fills in the admission control bounds.
func (c *Config) admissionDefaults() error {
	if c.MaxSigningsQueued < 0 || c.SigningQueueTimeout < 0 {
		return errors.New("authz: negative MaxSigningsQueued or SigningQueueTimeout")
	}
	if c.MaxSigningsInFlight == 0 {
		c.MaxSigningsInFlight = runtime.GOMAXPROCS(0)
	}
	if c.MaxSigningsQueued == 0 && c.MaxSigningsInFlight > 0 {
		c.MaxSigningsQueued = 64 * c.MaxSigningsInFlight
	}
	c.SigningQueueTimeout = orDefault(c.SigningQueueTimeout, time.Second)
	return nil
}
