package authz

import (
	"context"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// minKeyTick is the shortest period of the background reload.
const minKeyTick = 50 * time.Millisecond

// startSync starts the background reloads of a store-backed key set: every
// half interval, and at once when the store announces a change
// (storage.KeyWatcher). The subscription is made before it returns, so a
// change written after New is seen. Close stops it.
func (k *storeKeys) startSync() {
	ctx, cancel := context.WithCancel(context.Background())
	k.stop, k.done = cancel, make(chan struct{})
	watcher, _ := k.store.(storage.KeyWatcher)
	changes := k.watch(ctx, watcher)
	go k.run(ctx, watcher, changes)
}

// watch subscribes to the store's key changes; nil when the store has no
// such notification or the subscription failed (retried at the next tick).
func (k *storeKeys) watch(ctx context.Context, watcher storage.KeyWatcher) <-chan struct{} {
	if watcher == nil {
		return nil
	}
	ch, err := watcher.WatchKeys(ctx)
	if err != nil {
		if ctx.Err() == nil {
			k.logger.Warn("authz: cannot subscribe to signing key changes; keys reload every Config.KeyReloadInterval only until it can",
				"issuer", k.vault.issuer, "error", err)
		}
		return nil
	}
	return ch
}

// run reloads the keys until ctx is done.
func (k *storeKeys) run(ctx context.Context, watcher storage.KeyWatcher, changes <-chan struct{}) {
	defer close(k.done)
	tick := time.NewTicker(max(k.interval/2, minKeyTick))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if changes == nil {
				changes = k.watch(ctx, watcher)
			}
		case _, ok := <-changes:
			if !ok {
				changes = nil // lost: resubscribe at the next tick
				continue
			}
		}
		rctx, cancel := context.WithTimeout(ctx, max(k.interval, time.Second))
		_ = k.reload(rctx) // a failure is logged; requests retry it
		cancel()
	}
}

// close stops the background reloads and waits for them to end.
func (k *storeKeys) close() {
	if k.stop == nil {
		return
	}
	k.stop()
	<-k.done
}

// Close stops the server's background work: the periodic reload of the
// signing keys kept in the store and the subscription to their changes,
// and the delivery of back-channel logout tokens (those not delivered yet
// are dropped).
// The server keeps answering; its keys then reload only when a request
// finds them older than Config.KeyReloadInterval. Close is safe to call
// more than once, and returns nil.
func (s *Server) Close() error {
	s.keys.close()
	s.revocations.close()
	s.logouts.close()
	return nil
}
