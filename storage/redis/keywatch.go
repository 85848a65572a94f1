package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/storage"
)

var _ storage.KeyWatcher = (*Store)(nil)

// keysChannel is the pub/sub channel on which every write of the tenant's
// signing keys is announced. Classic pub/sub reaches every subscriber of a
// Redis Cluster, whichever node it is connected to.
func (s *Store) keysChannel() string { return s.dirTag + ":keys:changed" }

// watchedKeys is the signing-key collection: every successful write is
// announced on keysChannel, so that the servers of other replicas reload
// their keys at once (storage.KeyWatcher).
type watchedKeys struct {
	collection[storage.SigningKey, *storage.SigningKey]
}

// Create implements storage.Collection and announces the new key.
func (c watchedKeys) Create(ctx context.Context, rec *storage.SigningKey) error {
	return c.announce(ctx, c.collection.Create(ctx, rec))
}

// Update implements storage.Collection and announces the change.
func (c watchedKeys) Update(ctx context.Context, rec *storage.SigningKey) error {
	return c.announce(ctx, c.collection.Update(ctx, rec))
}

// Delete implements storage.Collection and announces the removal.
func (c watchedKeys) Delete(ctx context.Context, key string) error {
	return c.announce(ctx, c.collection.Delete(ctx, key))
}

// announce publishes a change after a successful write and returns the
// write's error. A failed publish is logged, not returned: the write is
// done, and the other replicas' periodic reloads still bring it.
func (c watchedKeys) announce(ctx context.Context, err error) error {
	if err != nil {
		return err
	}
	ctx, cancel := c.s.ctx(context.WithoutCancel(ctx))
	defer cancel()
	if perr := c.s.rdb.Publish(ctx, c.s.keysChannel(), "1").Err(); perr != nil {
		c.s.opts.Logger.Warn("redis: could not announce a signing key change; other replicas see it at their next periodic reload",
			"error", unavailable(perr))
	}
	return nil
}

// WatchKeys implements storage.KeyWatcher with a subscription to the
// tenant's key-change channel ({prefix:tenant}:keys:changed) on the pub/sub
// connection that every store of one New shares (hub), held until ctx is
// done. Changes coalesce: while a notice waits, a reload is already due.
// The connection's loss closes the channel.
func (s *Store) WatchKeys(ctx context.Context) (<-chan struct{}, error) {
	out := make(chan struct{}, 1)
	sub := &subscriber{
		channel: s.keysChannel(),
		deliver: func(*goredis.Message) bool {
			select {
			case out <- struct{}{}:
			default: // a reload is already due
			}
			return true
		},
		close: func() { close(out) },
	}
	rctx, cancel := s.ctx(ctx)
	defer cancel()
	if err := s.hub.watch(ctx, rctx, sub); err != nil {
		return nil, err
	}
	return out, nil
}
