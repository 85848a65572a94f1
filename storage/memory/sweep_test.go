package memory_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
	"github.com/scopekit/scopekit/storage/storagetest"
)

// TestSweepIsFair: 2,000 requests kept pending (a loop on /authorize) must
// not stop the expiry of anything else. Round after round, codes, families,
// revocations and tombstones expire on the store's clock, and the maps hold
// no more than about one round of them.
func TestSweepIsFair(t *testing.T) {
	clk := storagetest.NewClock()
	s := memory.New(memory.Clock(clk.Now))
	memory.SetTombstoneLifetime(s, time.Minute)
	ctx := t.Context()
	for i := range 2000 {
		if err := s.CreateAuthRequest(ctx, &storage.AuthRequest{ID: fmt.Sprint("r", i), ExpiresAt: clk.Now().Add(24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	const rounds, perRound = 200, 1000
	for r := range rounds {
		exp := clk.Now().Add(time.Minute)
		for i := range perRound {
			id := fmt.Sprint(r, ".", i)
			if err := s.CreateCode(ctx, &storage.AuthCode{Hash: "c" + id, Family: "f" + id, ExpiresAt: exp}); err != nil {
				t.Fatal(err)
			}
			if i%10 == 0 {
				must(t, s.CreateFamily(ctx, &storage.Family{ID: "f" + id, ExpiresAt: exp}, nil))
				must(t, s.RevokeToken(ctx, &storage.Revocation{JTI: "j" + id, ExpiresAt: exp}))
				must(t, s.RevokeFamily(ctx, "ghost"+id))
			}
		}
		n := memory.Entries(s)
		if n["requests"] != 2000 {
			t.Fatalf("round %d: %d pending requests, want the 2000 live ones", r, n["requests"])
		}
		if n["codes"] > 2*perRound || n["families"] > 2*perRound/10 || n["revoked"] > 2*perRound/10 || n["tombstones"] > 2*perRound/10 {
			t.Fatalf("round %d: expired entries are not reclaimed: %v", r, n)
		}
		if n["queued"] > 2000+2*(perRound+3*perRound/10) {
			t.Fatalf("round %d: the expiry queues grow: %v", r, n)
		}
		clk.Advance(2 * time.Minute) // everything of this round expires
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
