package memory

import "time"

// SetTombstoneLifetime shortens the family tombstone lifetime of a store, so
// that tests can watch tombstones expire.
func SetTombstoneLifetime(s *Store, d time.Duration) { s.b.tombstoneTTL = d }

// Entries counts the short-lived entries of the store's tenant, by map
// ("requests", "codes", "families", "revoked", "tombstones"), and the
// expiries queued for the sweep ("queued").
func Entries(s *Store) map[string]int {
	s.b.mu.RLock()
	defer s.b.mu.RUnlock()
	t := s.b.tenants[s.id]
	if t == nil {
		return map[string]int{}
	}
	queued := 0
	for _, q := range t.queues {
		queued += q.Len()
	}
	return map[string]int{"requests": len(t.requests), "codes": len(t.codes), "families": len(t.families),
		"revoked": len(t.revoked), "tombstones": len(t.tombstones), "queued": queued}
}
