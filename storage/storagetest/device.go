package storagetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
)

func deviceCode(user string, clk *Clock) *storage.DeviceCode {
	now := clk.Now()
	return &storage.DeviceCode{UserCode: user, Hash: "h-" + user, ClientID: "tv", Audience: "https://api",
		RequestedScopes: []string{"openid", "read"}, Status: storage.DevicePending, Interval: 5 * time.Second,
		LastPoll: ms(now), ExpiresAt: ms(now.Add(10 * time.Minute)), RetainUntil: ms(now.Add(20 * time.Minute))}
}

func deviceGrant() *storage.DeviceGrant {
	return &storage.DeviceGrant{Subject: "u1", Scopes: []string{"openid", "read"}, AuthTime: epoch, Family: "fam-1",
		IDTokenClaims: map[string]any{"https://x/c": "v"}, AccessTokenClaims: map[string]any{"https://x/a": "w"}}
}

func testDeviceCodes(t *testing.T, newStore NewStore) {
	t.Run("CreateGetDecide", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		d := deviceCode("U1", clk)
		Expect(t, s.CreateDeviceCode(bg, d), nil, "Create")
		Expect(t, s.CreateDeviceCode(bg, deviceCode("U1", clk)), storage.ErrDuplicate, "Create the same user code")
		bad := deviceCode("U2", clk)
		bad.Hash = ""
		Expect(t, s.CreateDeviceCode(bg, bad), storage.ErrInvalid, "Create without hash")
		got, err := s.GetDeviceCode(bg, "U1")
		Expect(t, err, nil, "Get")
		if !reflect.DeepEqual(got, d) {
			t.Fatalf("Get = %+v, want %+v", got, d)
		}
		got.RequestedScopes[0] = "changed"
		if again, _ := s.GetDeviceCode(bg, "U1"); again.RequestedScopes[0] != "openid" {
			t.Fatal("a returned record shares memory with the store")
		}
		_, err = s.GetDeviceCode(bg, "nope")
		Expect(t, err, storage.ErrNotFound, "Get unknown")
		Expect(t, s.DecideDeviceCode(bg, "nope", deviceGrant(), time.Time{}), storage.ErrNotFound, "Decide unknown")
		Expect(t, s.DecideDeviceCode(bg, "U1", deviceGrant(), ms(clk.Now().Add(time.Hour))), nil, "Decide")
		Expect(t, s.DecideDeviceCode(bg, "U1", nil, time.Time{}), storage.ErrAlreadyUsed, "Decide twice")
		got, err = s.GetDeviceCode(bg, "U1")
		Expect(t, err, nil, "Get decided")
		if got.Status != storage.DeviceApproved || !reflect.DeepEqual(got.DeviceGrant, *deviceGrant()) || !got.RetainUntil.Equal(ms(clk.Now().Add(time.Hour))) {
			t.Fatalf("decided record %+v", got)
		}
	})
	t.Run("PollStates", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		d := deviceCode("U1", clk)
		Expect(t, s.CreateDeviceCode(bg, d), nil, "Create")
		_, err := s.PollDeviceCode(bg, "U1", "wrong", "tv")
		Expect(t, err, storage.ErrNotFound, "Poll with a wrong device code")
		_, err = s.PollDeviceCode(bg, "U1", d.Hash, "other-client")
		Expect(t, err, storage.ErrNotFound, "Poll by another client")
		// Before the interval: slow_down, and the interval grows each time.
		clk.Advance(time.Second)
		got, err := s.PollDeviceCode(bg, "U1", d.Hash, "tv")
		Expect(t, err, storage.ErrSlowDown, "Poll too soon")
		if got.Interval != 10*time.Second {
			t.Fatalf("interval after slow_down %v, want 10s", got.Interval)
		}
		clk.Advance(6 * time.Second) // 6 s after the last poll, interval 10 s
		got, err = s.PollDeviceCode(bg, "U1", d.Hash, "tv")
		Expect(t, err, storage.ErrSlowDown, "Poll within the grown interval")
		if got.Interval != 15*time.Second {
			t.Fatalf("interval %v, want 15s", got.Interval)
		}
		clk.Advance(15 * time.Second)
		got, err = s.PollDeviceCode(bg, "U1", d.Hash, "tv")
		Expect(t, err, nil, "Poll after the interval")
		if got.Status != storage.DevicePending || got.Interval != 15*time.Second || !got.LastPoll.Equal(ms(clk.Now())) {
			t.Fatalf("pending poll %+v", got)
		}
		Expect(t, s.DecideDeviceCode(bg, "U1", deviceGrant(), ms(clk.Now().Add(time.Hour))), nil, "Decide")
		clk.Advance(15 * time.Second)
		got, err = s.PollDeviceCode(bg, "U1", d.Hash, "tv")
		Expect(t, err, nil, "Poll approved")
		if got.Status != storage.DeviceApproved || !reflect.DeepEqual(got.DeviceGrant, *deviceGrant()) {
			t.Fatalf("approved poll %+v", got)
		}
		clk.Advance(15 * time.Second)
		got, err = s.PollDeviceCode(bg, "U1", d.Hash, "tv")
		Expect(t, err, storage.ErrAlreadyUsed, "Poll after the take")
		if got.Family != "fam-1" || got.Subject != "" || got.Scopes != nil {
			t.Fatalf("used marker %+v: it must name the family and nothing of the grant", got)
		}
		_, err = s.GetDeviceCode(bg, "U1")
		Expect(t, err, storage.ErrNotFound, "Get after the take")
		// The marker lives as long as the decision's retention.
		clk.Advance(time.Hour)
		_, err = s.PollDeviceCode(bg, "U1", d.Hash, "tv")
		Expect(t, err, storage.ErrNotFound, "Poll after the retention")
		Expect(t, s.CreateDeviceCode(bg, deviceCode("U1", clk)), nil, "the user code is free again")
	})
	t.Run("DeniedAndExpired", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		d := deviceCode("U1", clk)
		Expect(t, s.CreateDeviceCode(bg, d), nil, "Create")
		Expect(t, s.DecideDeviceCode(bg, "U1", nil, time.Time{}), nil, "Deny")
		clk.Advance(5 * time.Second)
		got, err := s.PollDeviceCode(bg, "U1", d.Hash, "tv")
		Expect(t, err, nil, "Poll denied")
		if got.Status != storage.DeviceDenied || got.Subject != "" {
			t.Fatalf("denied poll %+v", got)
		}
		clk.Advance(10 * time.Minute)
		_, err = s.PollDeviceCode(bg, "U1", d.Hash, "tv")
		Expect(t, err, storage.ErrExpired, "Poll past the lifetime")
		_, err = s.GetDeviceCode(bg, "U1")
		Expect(t, err, storage.ErrNotFound, "Get past the lifetime")
		Expect(t, s.DecideDeviceCode(bg, "U1", deviceGrant(), time.Time{}), storage.ErrNotFound, "Decide past the lifetime")
		Expect(t, s.CreateDeviceCode(bg, deviceCode("U1", clk)), storage.ErrDuplicate, "Create while the expired one is kept")
		clk.Advance(10 * time.Minute)
		_, err = s.PollDeviceCode(bg, "U1", d.Hash, "tv")
		Expect(t, err, storage.ErrNotFound, "Poll past the retention")
	})
	t.Run("Tenants", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		Expect(t, s.CreateDeviceCode(bg, deviceCode("U1", clk)), nil, "Create")
		_, err := s.Tenant("other").GetDeviceCode(bg, "U1")
		Expect(t, err, storage.ErrNotFound, "Get in another tenant")
	})
	t.Run("ConcurrentTake", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		d := deviceCode("U1", clk)
		Expect(t, s.CreateDeviceCode(bg, d), nil, "Create")
		const n = 16
		var decided, taken, wg = countOf(n, func() error { return s.DecideDeviceCode(bg, "U1", deviceGrant(), time.Time{}) }), 0, sync.WaitGroup{}
		if decided != 1 {
			t.Fatalf("%d concurrent decisions succeeded, want 1", decided)
		}
		clk.Advance(time.Minute)
		var mu sync.Mutex
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := s.PollDeviceCode(bg, "U1", d.Hash, "tv")
				if err == nil && got.Status == storage.DeviceApproved && got.Subject == "u1" {
					mu.Lock()
					taken++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if taken != 1 {
			t.Fatalf("%d of %d concurrent polls took the grant, want exactly 1", taken, n)
		}
	})
	t.Run("Attempts", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		for i := range 3 {
			n, err := s.CountAttempt(bg, "ip:a", fmt.Sprint("id", i), time.Minute)
			Expect(t, err, nil, "CountAttempt")
			if n != int64(i+1) {
				t.Fatalf("attempt %d counted %d", i+1, n)
			}
		}
		Expect(t, s.ForgetAttempt(bg, "ip:a", "id0"), nil, "Forget")
		Expect(t, s.ForgetAttempt(bg, "ip:a", "absent"), nil, "Forget absent")
		if n, _ := s.CountAttempt(bg, "ip:b", "x", time.Minute); n != 1 {
			t.Fatalf("another key counted %d", n)
		}
		if n, _ := s.Tenant("t2").CountAttempt(bg, "ip:a", "y", time.Minute); n != 1 {
			t.Fatalf("another tenant counted %d", n)
		}
		clk.Advance(30 * time.Second)
		if n, _ := s.CountAttempt(bg, "ip:a", "id3", time.Minute); n != 3 {
			t.Fatalf("after a forget: %d, want 3", n)
		}
		clk.Advance(31 * time.Second) // id1, id2 expired
		if n, _ := s.CountAttempt(bg, "ip:a", "id4", time.Minute); n != 2 {
			t.Fatalf("after the window: %d, want 2", n)
		}
		const c = 20
		var wg sync.WaitGroup
		counts := make([]int64, c)
		for i := range c {
			wg.Add(1)
			go func() {
				defer wg.Done()
				counts[i], _ = s.CountAttempt(bg, "all", fmt.Sprint("c", i), time.Minute)
			}()
		}
		wg.Wait()
		maxN := int64(0)
		for _, n := range counts {
			maxN = max(maxN, n)
		}
		if maxN != c {
			t.Fatalf("of %d concurrent attempts the last counted %d", c, maxN)
		}
	})
}

// countOf runs f n times concurrently and returns how many returned nil.
func countOf(n int, f func() error) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f() == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ok
}
