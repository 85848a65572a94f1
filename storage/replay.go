package storage

import (
	"context"
	"time"
)

// MaxReplayKeyBytes bounds a key of Replay.UseOnce.
const MaxReplayKeyBytes = 512

// Replay remembers single-use values until they expire: the jti of a
// client assertion (RFC 7523 §3 item 7, OpenID Connect Core §9) is accepted
// once. Keys are scoped to the tenant like every record.
type Replay interface {
	// UseOnce records key as used until expiresAt and reports whether it
	// was fresh: never recorded, or recorded with an expiry already past
	// at the store's clock. Of many concurrent callers with one key exactly
	// one gets true. ErrInvalid for an empty key, one longer than
	// MaxReplayKeyBytes, or a zero expiresAt.
	UseOnce(ctx context.Context, key string, expiresAt time.Time) (fresh bool, err error)
}

// ValidReplayKey reports whether UseOnce accepts key and expiresAt.
func ValidReplayKey(key string, expiresAt time.Time) bool {
	return key != "" && len(key) <= MaxReplayKeyBytes && !expiresAt.IsZero()
}
