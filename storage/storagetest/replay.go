package storagetest

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// testReplay checks Replay.UseOnce: a key is fresh once until it expires on
// the store's clock, tenants do not share keys, bad input is ErrInvalid, and
// of concurrent callers with one key exactly one is told it is fresh.
func testReplay(t *testing.T, newStore NewStore) {
	t.Run("Once", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		exp := ms(clk.Now().Add(time.Minute))
		for i, want := range []bool{true, false, false} {
			fresh, err := s.UseOnce(bg, "client:a:jti-1", exp)
			Expect(t, err, nil, "UseOnce")
			if fresh != want {
				t.Fatalf("use %d: fresh = %v, want %v", i, fresh, want)
			}
		}
		if fresh, err := s.UseOnce(bg, "client:a:jti-2", exp); err != nil || !fresh {
			t.Fatalf("another key: fresh = %v, %v", fresh, err)
		}
		if fresh, err := s.Tenant("other").UseOnce(bg, "client:a:jti-1", exp); err != nil || !fresh {
			t.Fatalf("another tenant shares the key: fresh = %v, %v", fresh, err)
		}
		clk.Advance(59 * time.Second)
		if fresh, err := s.UseOnce(bg, "client:a:jti-1", exp); err != nil || fresh {
			t.Fatalf("before its expiry: fresh = %v, %v", fresh, err)
		}
		clk.Advance(time.Second)
		if fresh, err := s.UseOnce(bg, "client:a:jti-1", ms(clk.Now().Add(time.Minute))); err != nil || !fresh {
			t.Fatalf("after its expiry: fresh = %v, %v", fresh, err)
		}
		if fresh, err := s.UseOnce(bg, "client:a:jti-1", ms(clk.Now().Add(time.Minute))); err != nil || fresh {
			t.Fatalf("recorded again after expiry: fresh = %v, %v", fresh, err)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		s := newStore(t)
		exp := time.Now().Add(time.Minute)
		for name, tc := range map[string]struct {
			key string
			exp time.Time
		}{
			"empty key": {"", exp},
			"long key":  {strings.Repeat("k", storage.MaxReplayKeyBytes+1), exp},
			"no expiry": {"k", time.Time{}},
		} {
			fresh, err := s.UseOnce(bg, tc.key, tc.exp)
			if !errors.Is(err, storage.ErrInvalid) || fresh {
				t.Fatalf("%s: fresh = %v, %v; want ErrInvalid", name, fresh, err)
			}
		}
		if fresh, err := s.UseOnce(bg, strings.Repeat("k", storage.MaxReplayKeyBytes), exp); err != nil || !fresh {
			t.Fatalf("key of the maximal length: fresh = %v, %v", fresh, err)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := newStore(t)
		exp := ms(time.Now().Add(time.Minute))
		for round := range 5 {
			key := "client:a:race-" + string(rune('a'+round))
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			var errs []error
			start := make(chan struct{})
			for range concurrency {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					ok, err := s.UseOnce(bg, key, exp)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
					} else if ok {
						wins++
					}
				}()
			}
			close(start)
			wg.Wait()
			if len(errs) > 0 || wins != 1 {
				t.Fatalf("round %d: %d of %d callers fresh, errors %v", round, wins, concurrency, errs)
			}
		}
	})
}
