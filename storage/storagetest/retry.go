package storagetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// testRetryRecords checks what the single-use writes record of their first
// use, which a server's retry window is judged by: the instant (by the
// store's clock) and, for a rotation, the successor's hash, kept in the
// same write that consumed the record and returned to every later caller.
func testRetryRecords(t *testing.T, newStore NewStore) {
	t.Run("CodeUsedAt", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		c := code("hr", clk.Now().Add(time.Minute))
		c.RetainUntil, c.Sealed = ms(clk.Now().Add(time.Hour)), "opaque-sealed-grant"
		Expect(t, s.CreateCode(bg, c), nil, "Create")
		clk.Advance(3 * time.Second)
		usedAt := ms(clk.Now())
		got, err := s.ConsumeCode(bg, "hr")
		Expect(t, err, nil, "Consume")
		if !got.UsedAt.Equal(usedAt) {
			t.Fatalf("UsedAt %v, want the store's clock %v", got.UsedAt, usedAt)
		}
		clk.Advance(2 * time.Minute) // past the code's expiry, within its retention
		m, err := s.ConsumeCode(bg, "hr")
		Expect(t, err, storage.ErrAlreadyUsed, "replay")
		if !m.UsedAt.Equal(usedAt) || m.Sealed != "opaque-sealed-grant" || m.ClientID != "app" || m.Family != "fam-hr" {
			t.Fatalf("the used marker must keep the first consumption's instant and the sealed grant: %#v", m)
		}
		if m.Scopes != nil || m.CodeChallenge != "" || m.Subject != "" || m.Nonce != "" {
			t.Fatalf("the used marker keeps the grant in clear: %#v", m)
		}
	})
	t.Run("RotationRecorded", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		hour := clk.Now().Add(time.Hour)
		Expect(t, s.CreateFamily(bg, family("fr", hour), refresh("fr", "t1", hour)), nil, "Create")
		fresh, err := s.GetRefresh(bg, "fr", "t1")
		Expect(t, err, nil, "GetRefresh")
		if !fresh.RotatedAt.IsZero() || fresh.NextHash != "" {
			t.Fatalf("an unused token names a rotation: %#v", fresh)
		}
		clk.Advance(time.Second)
		at := ms(clk.Now())
		old, err := s.RotateRefresh(bg, "fr", "t1", refresh("fr", "t2", hour))
		Expect(t, err, nil, "Rotate")
		if !old.RotatedAt.Equal(at) || old.NextHash != "t2" {
			t.Fatalf("Rotate returned %v/%q, want %v/t2", old.RotatedAt, old.NextHash, at)
		}
		clk.Advance(5 * time.Second)
		used, err := s.GetRefresh(bg, "fr", "t1")
		Expect(t, err, nil, "GetRefresh used")
		if !used.Used || !used.RotatedAt.Equal(at) || used.NextHash != "t2" {
			t.Fatalf("GetRefresh of a rotated token: %#v, want rotated at %v to t2", used, at)
		}
		again, err := s.RotateRefresh(bg, "fr", "t1", refresh("fr", "t3", hour))
		Expect(t, err, storage.ErrAlreadyUsed, "Rotate again")
		if !again.RotatedAt.Equal(at) || again.NextHash != "t2" {
			t.Fatalf("a refused rotation must report the first: %v/%q, want %v/t2", again.RotatedAt, again.NextHash, at)
		}
		next, err := s.GetRefresh(bg, "fr", "t2")
		Expect(t, err, nil, "GetRefresh next")
		if next.Used || next.NextHash != "" {
			t.Fatalf("the successor is not fresh: %#v", next)
		}
	})
	t.Run("RotationRaceReportsWinner", func(t *testing.T) {
		s := newStore(t)
		hour := time.Now().Add(time.Hour)
		Expect(t, s.CreateFamily(bg, family("fw", hour), refresh("fw", "t0", hour)), nil, "Create")
		const n = 8
		var wg sync.WaitGroup
		olds, errs := make([]*storage.RefreshToken, n), make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				olds[i], errs[i] = s.RotateRefresh(bg, "fw", "t0", refresh("fw", fmt.Sprintf("n%d", i), hour))
			}()
		}
		close(start)
		wg.Wait()
		winner := ""
		for i, err := range errs {
			if err == nil {
				if winner != "" {
					t.Fatal("two rotations of one token succeeded")
				}
				winner = fmt.Sprintf("n%d", i)
			}
		}
		if winner == "" {
			t.Fatal("no rotation succeeded")
		}
		for i, err := range errs {
			if err != nil {
				Expect(t, err, storage.ErrAlreadyUsed, "loser")
				if olds[i].NextHash != winner && olds[i].NextHash != "" {
					t.Fatalf("loser %d told of successor %q, the winner stored %q", i, olds[i].NextHash, winner)
				}
			}
		}
	})
}
