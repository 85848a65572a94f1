package mongo

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// defaultSubscriberBuffer is how many notices a subscription holds that its
// reader has not taken; a subscription that falls that far behind is
// closed, so its reader asks the store, rather than a notice be dropped or
// the other subscriptions be held up.
const defaultSubscriberBuffer = 256

// revocationHub is the one revocation poller of the stores one New made: the
// store New returns and every view of it (Tenant, WithClock) hold the same
// hub, so a process polls twice per interval however many tenants
// subscribe.
type revocationHub struct {
	// fault, set by tests, makes the polls fail while it returns an error.
	fault atomic.Pointer[func() error]
	// polls counts the successful polls and pollers the running poller
	// goroutines, for tests.
	polls, pollers atomic.Int64
	// buffer is each subscription's (defaultSubscriberBuffer; tests
	// shorten it).
	buffer atomic.Int64

	mu sync.Mutex
	// run is the poller now running, nil while none is.
	run *pollRun
}

func newRevocationHub() *revocationHub {
	h := &revocationHub{}
	h.buffer.Store(defaultSubscriberBuffer)
	return h
}

// pollRun is one run of the poller: from the subscription that starts it
// until its last subscriber leaves or a poll fails. Its fields below mu are
// guarded by the hub's mu.
type pollRun struct {
	hub    *revocationHub
	poller *revocationPoller
	cancel context.CancelFunc
	// ready is closed when the first poll is done; err is its error.
	ready chan struct{}
	err   error
	// subs holds the subscriptions by escaped tenant; n counts them.
	subs map[string]map[*subscription]struct{}
	n    int
}

// subscription is one WatchRevocations caller's.
type subscription struct {
	tenant string
	ch     chan storage.RevocationNotice
	// stop releases the context.AfterFunc that ends the subscription.
	stop func() bool
}

// WatchRevocations implements storage.RevocationWatcher: it subscribes to
// the store's tenant on the hub's poller, starting the poller when none
// runs (it then returns once the first poll has succeeded, and
// storage.ErrUnavailable when it failed). Every revocation of the tenant
// written after it returns is delivered, once (a revocation dated anew, as
// a family's is when its end is extended, is delivered again if its end
// moved). A poll that fails, takes longer than its timeout (the store's
// Timeout, at most one second) or finds more than RevocationPollLimit
// documents closes every subscription's channel, and a reader that falls
// 256 notices behind has its own closed: no notice is
// skipped. The channel closes when ctx is done.
func (s *Store) WatchRevocations(ctx context.Context) (<-chan storage.RevocationNotice, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h := s.hub
	sub := &subscription{tenant: s.tenant, ch: make(chan storage.RevocationNotice, h.buffer.Load())}
	h.mu.Lock()
	r := h.run
	if r == nil {
		r = h.start(s)
	}
	// Why joining a running poller needs no poll of its own: the poller's
	// previous poll began at some t0 before this registration, and every
	// later poll reads from at most t0 less the overlap. A revocation
	// written after WatchRevocations returns is dated after the
	// registration, so after t0, and (the overlap assumption,
	// docs/MONGODB.md) commits less than the overlap after its date: a poll
	// that begins after this registration reads it. A poll that had read it
	// already must have run its query after the write, so after the
	// registration, and dispatches after it too: the registration is in
	// subs by then, under h.mu, and receives it. So no revocation written
	// after the return can be marked seen without reaching this
	// subscription.
	r.add(sub)
	sub.stop = context.AfterFunc(ctx, func() { r.remove(sub) })
	h.mu.Unlock()
	select {
	case <-r.ready:
	case <-ctx.Done():
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.err != nil {
		return nil, r.err
	}
	return sub.ch, nil
}

// start starts a run of the poller on s's collections, options and clock;
// h.mu is held.
func (h *revocationHub) start(s *Store) *pollRun {
	ctx, cancel := context.WithCancel(context.Background())
	p := &revocationPoller{s: s, fault: h.faultPoll, since: s.now().Add(-s.opts.RevocationPollOverlap), seen: map[string]seenRevocation{}}
	r := &pollRun{hub: h, poller: p, cancel: cancel, ready: make(chan struct{}), subs: map[string]map[*subscription]struct{}{}}
	h.run = r
	h.pollers.Add(1)
	go r.loop(ctx, s.opts.RevocationPollInterval)
	return r
}

// loop polls every interval until ctx is done or a poll fails. What the
// first poll finds was written before any subscription returned: it is
// remembered, not delivered.
func (r *pollRun) loop(ctx context.Context, interval time.Duration) {
	defer r.hub.pollers.Add(-1)
	_, err := r.poller.poll(ctx)
	if err != nil {
		r.err = err
		r.end()
		close(r.ready)
		return
	}
	r.hub.polls.Add(1)
	close(r.ready)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		found, err := r.poller.poll(ctx)
		if err != nil {
			r.end()
			return
		}
		r.dispatch(found)
		r.hub.polls.Add(1)
	}
}

// faultPoll is the test hook's verdict on a poll: nil unless it is set
// and fails.
func (h *revocationHub) faultPoll() error {
	if f := h.fault.Load(); f != nil {
		return (*f)()
	}
	return nil
}

// add registers sub; h.mu is held.
func (r *pollRun) add(sub *subscription) {
	m := r.subs[sub.tenant]
	if m == nil {
		m = map[*subscription]struct{}{}
		r.subs[sub.tenant] = m
	}
	m[sub] = struct{}{}
	r.n++
}

// dispatch hands each notice to its tenant's subscriptions, never waiting:
// one whose buffer is full is closed.
func (r *pollRun) dispatch(found []tenantNotice) {
	h := r.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range found {
		for sub := range r.subs[n.tenant] {
			select {
			case sub.ch <- n.RevocationNotice:
			default:
				r.dropLocked(sub)
			}
		}
	}
	r.stopIfEmptyLocked()
}

// remove ends sub, and the run with its last subscription.
func (r *pollRun) remove(sub *subscription) {
	h := r.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := r.subs[sub.tenant][sub]; !ok {
		return
	}
	r.dropLocked(sub)
	r.stopIfEmptyLocked()
}

// dropLocked unregisters sub and closes its channel; h.mu is held.
func (r *pollRun) dropLocked(sub *subscription) {
	m := r.subs[sub.tenant]
	delete(m, sub)
	if len(m) == 0 {
		delete(r.subs, sub.tenant)
	}
	r.n--
	if sub.stop != nil {
		sub.stop()
	}
	close(sub.ch)
}

// stopIfEmptyLocked stops the run once it has no subscription; h.mu is
// held.
func (r *pollRun) stopIfEmptyLocked() {
	if r.n == 0 {
		r.detachLocked()
	}
}

// detachLocked stops the run and makes the next subscription start
// another; h.mu is held.
func (r *pollRun) detachLocked() {
	if r.hub.run == r {
		r.hub.run = nil
	}
	r.cancel()
}

// end closes every subscription after a failed poll and stops the run.
func (r *pollRun) end() {
	h := r.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range r.subs {
		for sub := range m {
			r.dropLocked(sub)
		}
	}
	r.detachLocked()
}
