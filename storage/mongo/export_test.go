package mongo

import (
	"time"

	"go.mongodb.org/mongo-driver/mongo/writeconcern"
)

// SetTombstoneLifetime shortens the family tombstone lifetime of a store, so
// that tests can watch tombstones expire.
func SetTombstoneLifetime(s *Store, d time.Duration) { s.tombstoneTTL = d }

// FailAfterClaim makes the write that follows a claim of the given kind
// ("ar", "code", "rt") fail, as if the server went away between the two.
func FailAfterClaim(s *Store, kind string, err error) {
	s.faultAfterClaim = func(k string) error {
		if k == kind {
			return err
		}
		return nil
	}
}

// WriteConcern is the write concern the store applies to its collections.
func WriteConcern(s *Store) *writeconcern.WriteConcern { return s.opts.WriteConcern }
