package redis

import "time"

// SetTombstoneLifetime shortens the family tombstone lifetime of a store, so
// that tests can watch tombstones expire.
func SetTombstoneLifetime(s *Store, d time.Duration) { s.tombstoneTTL = d }

// ContextTimeouts exposes contextTimeouts to tests.
var ContextTimeouts = contextTimeouts
