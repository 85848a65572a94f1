//go:build scopekit_testhooks

package mongo

import "time"

// This file is compiled only with the build tag scopekit_testhooks, which
// the integration module's tests are run with (scripts/test.sh): they drive
// the store against a real server from another module, where export_test.go
// does not reach. Builds without the tag have neither function.

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

// FailRevocationPolls makes every revocation poll of the store, and of the
// views made of it after the call, fail while fail returns an error, as if
// the server stopped answering them.
func FailRevocationPolls(s *Store, fail func() error) { s.faultPoll = fail }
