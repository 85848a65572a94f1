package authz

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
)

// RevocationPushMode selects how in-process authorizers check the
// revocation of a token they verified before (Config.RevocationPush).
type RevocationPushMode int

const (
	// RevocationPushOn judges a cached token from the revocations the store
	// pushes (storage.RevocationWatcher), with no store call, and asks the
	// store while the push is down. Stores without a push are asked on
	// every call.
	RevocationPushOn RevocationPushMode = iota
	// RevocationPushOff asks the store on every call, cached or not.
	RevocationPushOff
)

const (
	// maxPushedRevocations bounds the revocations a feed holds; beyond it
	// the feed starts a new epoch, so cached tokens are looked up again.
	maxPushedRevocations = 100_000
	// revocationResubscribe is the pause before a lost subscription is
	// made again.
	revocationResubscribe = time.Second
)

// revocationFeed mirrors the store's revocations in process
// (resource.RevocationFeed): the store's lookup for tokens not checked
// before, the pushed revocations for those that were.
type revocationFeed struct {
	storage.Revocations
	watcher storage.RevocationWatcher
	now     func() time.Time
	// epoch is the current subscription's, 0 while there is none.
	epoch atomic.Uint64
	// next numbers the subscriptions.
	next uint64

	mu sync.RWMutex
	// jtis and families hold the pushed revocations of the current epoch
	// until they stop mattering.
	jtis, families map[string]time.Time

	stop context.CancelFunc
	done chan struct{}
}

var _ resource.RevocationFeed = (*revocationFeed)(nil)

// startRevocationFeed subscribes to the store's revocations when it pushes
// them and Config.RevocationPush allows; nil otherwise. The first
// subscription is made before it returns.
func (s *Server) startRevocationFeed() *revocationFeed {
	w, ok := s.store.(storage.RevocationWatcher)
	if !ok || s.cfg.RevocationPush == RevocationPushOff {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &revocationFeed{Revocations: s.store, watcher: w, now: s.cfg.Now, stop: cancel, done: make(chan struct{})}
	ch := f.subscribe(ctx, s.cfg)
	go f.run(ctx, s.cfg, ch)
	return f
}

// subscribe starts a new epoch; nil when the subscription failed.
func (f *revocationFeed) subscribe(ctx context.Context, cfg Config) <-chan storage.RevocationNotice {
	ch, err := f.watcher.WatchRevocations(ctx)
	if err != nil {
		if ctx.Err() == nil {
			cfg.Logger.Warn("authz: cannot subscribe to revocations; every token check asks the store until it can",
				"issuer", cfg.Issuer, "error", err)
		}
		return nil
	}
	f.newEpoch()
	return ch
}

// newEpoch forgets the pushed revocations and numbers a new subscription:
// entries cached before are looked up again.
func (f *revocationFeed) newEpoch() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.newEpochLocked()
}

func (f *revocationFeed) newEpochLocked() {
	f.jtis, f.families = map[string]time.Time{}, map[string]time.Time{}
	f.next++
	f.epoch.Store(f.next)
}

// run applies pushes until ctx is done, resubscribing after a loss.
func (f *revocationFeed) run(ctx context.Context, cfg Config, ch <-chan storage.RevocationNotice) {
	defer close(f.done)
	for {
		if ch == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(revocationResubscribe):
			}
			ch = f.subscribe(ctx, cfg)
			continue
		}
		n, ok := <-ch
		if !ok {
			f.epoch.Store(0) // lost: every check asks the store
			ch = nil
			continue
		}
		f.add(n)
	}
}

// add records a pushed revocation.
func (f *revocationFeed) add(n storage.RevocationNotice) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.jtis)+len(f.families) >= maxPushedRevocations {
		f.prune()
		if len(f.jtis)+len(f.families) >= maxPushedRevocations {
			f.newEpochLocked()
		}
	}
	if n.JTI != "" {
		f.jtis[n.JTI] = n.Until
	} else if n.Family != "" {
		f.families[n.Family] = n.Until
	}
}

// prune drops the revocations that stopped mattering.
func (f *revocationFeed) prune() {
	now := f.now()
	for _, m := range []map[string]time.Time{f.jtis, f.families} {
		for k, until := range m {
			if now.After(until) {
				delete(m, k)
			}
		}
	}
}

// Epoch implements resource.RevocationFeed.
func (f *revocationFeed) Epoch() uint64 { return f.epoch.Load() }

// Pushed implements resource.RevocationFeed.
func (f *revocationFeed) Pushed(epoch uint64, family, jti string) (revoked, ok bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if epoch != f.epoch.Load() {
		return false, false
	}
	if _, hit := f.jtis[jti]; hit {
		return true, true
	}
	if family != "" {
		if _, hit := f.families[family]; hit {
			return true, true
		}
	}
	return false, true
}

// checker returns what in-process authorizers ask about revocations.
func (s *Server) revocationChecker() resource.RevocationChecker {
	if s.revocations != nil {
		return s.revocations
	}
	return s.store
}

// close stops the subscription.
func (f *revocationFeed) close() {
	if f == nil {
		return
	}
	f.stop()
	<-f.done
}
