package memory

import "time"

// SetTombstoneLifetime shortens the family tombstone lifetime of a store, so
// that tests can watch tombstones expire.
func SetTombstoneLifetime(s *Store, d time.Duration) { s.b.tombstoneTTL = d }
