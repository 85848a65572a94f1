// Package storagetest is for authors of storage drivers: the conformance
// suite. Every driver runs Run against a real backend, so that all of them
// keep the same contract (round trips, not-found, duplicates, expiry, tenant isolation,
// cancelled contexts and single-use records under concurrency).
//
// Drivers keep times to the millisecond in UTC; the suite compares times at
// that precision. Expiry tests never sleep: they view the store through
// Store.WithClock on a Clock and move it.
package storagetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// NewStore returns a fresh, empty store for one subtest.
type NewStore func(t *testing.T) storage.Store

// Run runs the whole suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	t.Run("Collections", func(t *testing.T) { testCollections(t, newStore) })
	t.Run("Lookups", func(t *testing.T) { testLookups(t, newStore) })
	t.Run("PageBounds", func(t *testing.T) { testPageBounds(t, newStore) })
	t.Run("Resolve", func(t *testing.T) { testResolve(t, newStore) })
	t.Run("AuthRequests", func(t *testing.T) { testAuthRequests(t, newStore) })
	t.Run("Codes", func(t *testing.T) { testCodes(t, newStore) })
	t.Run("Families", func(t *testing.T) { testFamilies(t, newStore) })
	t.Run("RetryRecords", func(t *testing.T) { testRetryRecords(t, newStore) })
	t.Run("FamiliesBySubject", func(t *testing.T) { testFamiliesBySubject(t, newStore) })
	t.Run("Revocations", func(t *testing.T) { testRevocations(t, newStore) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, newStore) })
	t.Run("Replay", func(t *testing.T) { testReplay(t, newStore) })
	t.Run("DPoPBinding", func(t *testing.T) { testDPoPBinding(t, newStore) })
	t.Run("DeviceCodes", func(t *testing.T) { testDeviceCodes(t, newStore) })
	t.Run("OpaqueTokens", func(t *testing.T) { testOpaque(t, newStore) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, newStore) })
	t.Run("Tenants", func(t *testing.T) { testTenants(t, newStore) })
	t.Run("TenantNames", func(t *testing.T) { testTenantNames(t, newStore) })
	t.Run("DropTenant", func(t *testing.T) { testDropTenant(t, newStore) })
	t.Run("CancelledContext", func(t *testing.T) { testCancelled(t, newStore) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, newStore) })
}

// Expect fails the test unless errors.Is(err, want) (nil wants no error).
func Expect(t testing.TB, err, want error, what string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: unexpected error %v", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// ms returns t at the millisecond precision drivers keep, in UTC.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

var bg = context.Background()

// Clock is a controllable clock for expiry tests: it starts at the wall
// clock's current millisecond and moves only when Advance is called. It is
// safe for concurrent use.
type Clock struct{ ns atomic.Int64 }

// NewClock returns a clock at the wall clock's current millisecond.
func NewClock() *Clock {
	c := &Clock{}
	c.ns.Store(ms(time.Now()).UnixNano())
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// clocked returns a fresh store of newStore viewed through a new Clock.
func clocked(t *testing.T, newStore NewStore) (storage.Store, *Clock) {
	clk := NewClock()
	return newStore(t).WithClock(clk.Now), clk
}
