package redis

import (
	"context"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// replayEvictionMargin keeps a used key in Redis this long past its expiry,
// so that a Redis clock ahead of the store's cannot evict it while the store
// still judges it live (which would make a replay fresh again).
const replayEvictionMargin = time.Minute

func (s *Store) usedKey(key string) string { return s.ownTag("once", key) }

// UseOnce implements storage.Replay: one script, one round trip. The value
// is the expiry, judged by the store's clock; the key's TTL only collects
// garbage.
func (s *Store) UseOnce(ctx context.Context, key string, expiresAt time.Time) (bool, error) {
	if !storage.ValidReplayKey(key, expiresAt) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		return false, storage.ErrInvalid
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return false, err
	}
	defer cancel()
	n, err := useOnce.Run(ctx, s.rdb, []string{s.usedKey(key)}, s.nowArg(), pxat(expiresAt), pxat(expiresAt.Add(replayEvictionMargin))).Int64()
	if err != nil {
		return false, unavailable(err)
	}
	return n == 1, nil
}
