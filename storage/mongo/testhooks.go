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

// FailRevocationPolls makes every revocation poll of the store and of every
// view sharing its poller (all the stores of one New) fail while fail
// returns an error, as if the server stopped answering them.
func FailRevocationPolls(s *Store, fail func() error) { s.hub.fault.Store(&fail) }

// RevocationPollers is how many revocation poller goroutines the stores of
// s's New are running: one while any subscription is open (a poller that
// was just stopped counts until its goroutine has returned), none after.
func RevocationPollers(s *Store) int { return int(s.hub.pollers.Load()) }

// RevocationPolls is how many revocation polls of the stores of s's New
// have succeeded.
func RevocationPolls(s *Store) int64 { return s.hub.polls.Load() }

// SetRevocationBuffer sets how many unread notices a subscription made
// after the call, through the store or a view sharing its poller, holds
// before it is closed.
func SetRevocationBuffer(s *Store, n int) { s.hub.buffer.Store(int64(n)) }
