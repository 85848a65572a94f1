package storage

import "context"

// KeyWatcher is implemented by stores that can tell a server at once that
// the tenant's signing keys (Directory.Keys) changed, so that every replica
// over the store reloads them without waiting for its next periodic reload.
// Stores that cannot (no change notification in the backend) do not
// implement it; servers then rely on their periodic reload alone.
type KeyWatcher interface {
	// WatchKeys subscribes to changes of the store's tenant's keys, written
	// through any store over the same backend, and returns once the
	// subscription is active. The channel receives a value after a change
	// (changes in quick succession may be merged into one) and is closed
	// when ctx is done or the subscription is lost; a missed notification
	// is possible when the connection drops, so a periodic reload is still
	// needed.
	WatchKeys(ctx context.Context) (<-chan struct{}, error)
}
