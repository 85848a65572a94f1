package mongo

import (
	"context"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// UseOnce implements storage.Replay with a claim: the caller whose claim
// document is inserted first gets true (the unique _id decides on every
// server); an expired claim a server without TTL indexes kept is replaced.
func (s *Store) UseOnce(ctx context.Context, key string, expiresAt time.Time) (bool, error) {
	if !storage.ValidReplayKey(key, expiresAt) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		return false, storage.ErrInvalid
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return false, err
	}
	defer cancel()
	return s.claim(ctx, &claimDoc{ID: s.claimID(claimOnce, key), ExpiresAt: expiresAt})
}
