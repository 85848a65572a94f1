package memory_test

import (
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
	"github.com/scopekit/scopekit/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storage.Store { return memory.New() })
}

func TestTokenRevokedDoesNotAllocate(t *testing.T) {
	s := memory.New()
	allocs := testing.AllocsPerRun(100, func() { _, _ = s.TokenRevoked(t.Context(), "fam", "fam.jti") })
	if allocs != 0 {
		t.Fatalf("TokenRevoked allocates %v times", allocs)
	}
}

func TestTombstoneExpiry(t *testing.T) {
	clk := storagetest.NewClock()
	s := memory.New(memory.Clock(clk.Now))
	memory.SetTombstoneLifetime(s, time.Second)
	storagetest.TombstoneExpiry(t, s, clk, time.Second)
}

func TestTombstoneLifetimeDefault(t *testing.T) {
	// The revocation of a family not stored yet outlives any authorization
	// code that could still create it.
	if storage.FamilyTombstoneLifetime < time.Hour {
		t.Fatalf("FamilyTombstoneLifetime %v is shorter than the lifetime of codes and requests", storage.FamilyTombstoneLifetime)
	}
}
