package memory

import (
	"context"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// UseOnce implements storage.Replay: one map write under the lock.
func (s *Store) UseOnce(ctx context.Context, key string, expiresAt time.Time) (bool, error) {
	if !storage.ValidReplayKey(key, expiresAt) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		return false, storage.ErrInvalid
	}
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return false, err
	}
	defer s.b.mu.Unlock()
	if exp, ok := t.used[key]; ok && storage.Live(exp, now) {
		return false, nil
	}
	t.used[key] = expiresAt
	t.schedule(kindUsed, key, expiresAt, now)
	return true, nil
}
