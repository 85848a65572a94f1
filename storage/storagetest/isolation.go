package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
)

func testTenants(t *testing.T, newStore NewStore) {
	root := newStore(t)
	a, b := root.Tenant("acme"), root.Tenant("globex")
	hour := time.Now().Add(time.Hour)
	Expect(t, a.Clients().Create(bg, &storage.Client{ID: "app", Name: "acme app"}), nil, "client a")
	Expect(t, a.APIs().Create(bg, &storage.API{Identifier: "https://api", Name: "acme api"}), nil, "api a")
	Expect(t, a.ClientGrants().Create(bg, &storage.ClientGrant{ClientID: "app", Audience: "https://api", Scopes: []string{"x"}}), nil, "grant a")
	Expect(t, a.CreateCode(bg, code("h1", hour)), nil, "code a")
	Expect(t, a.CreateAuthRequest(bg, authRequest("r1", hour)), nil, "request a")
	Expect(t, a.CreateFamily(bg, family("f1", hour), refresh("f1", "t1", hour)), nil, "family a")
	Expect(t, a.RevokeToken(bg, &storage.Revocation{JTI: "j1", ExpiresAt: ms(hour)}), nil, "revocation a")
	Expect(t, a.RevokeFamily(bg, "f1"), nil, "revoke family a")

	_, err := b.Clients().Get(bg, "app")
	Expect(t, err, storage.ErrNotFound, "client seen from b")
	if list, _ := storage.All(bg, b.Clients(), ""); len(list) != 0 {
		t.Fatalf("b lists %d clients of a", len(list))
	}
	if res, err := b.Resolve(bg, "app", "https://api"); err != nil || res.Client != nil || res.API != nil || res.Grant != nil {
		t.Fatalf("Resolve from b: %+v %v", res, err)
	}
	_, err = b.ConsumeCode(bg, "h1")
	Expect(t, err, storage.ErrNotFound, "code consumed from b")
	_, err = b.TakeAuthRequest(bg, "r1")
	Expect(t, err, storage.ErrNotFound, "request taken from b")
	_, err = b.GetFamily(bg, "f1")
	Expect(t, err, storage.ErrNotFound, "family seen from b")
	_, err = b.RotateRefresh(bg, "f1", "t1", refresh("f1", "t2", hour))
	Expect(t, err, storage.ErrNotFound, "refresh rotated from b")
	if revoked, _ := b.TokenRevoked(bg, "f1", "j1"); revoked {
		t.Fatal("a's revocations seen from b")
	}
	// The same keys live independently in b.
	Expect(t, b.Clients().Create(bg, &storage.Client{ID: "app", Name: "globex app"}), nil, "same id in b")
	Expect(t, b.CreateCode(bg, code("h1", hour)), nil, "same code hash in b")
	Expect(t, b.CreateFamily(bg, family("f1", hour), refresh("f1", "t1", hour)), nil, "same family in b")
	if _, err := b.RotateRefresh(bg, "f1", "t1", refresh("f1", "t2", hour)); err != nil {
		t.Fatalf("b's family is revoked by a's revocation: %v", err)
	}
	ca, _ := a.Clients().Get(bg, "app")
	cb, _ := b.Clients().Get(bg, "app")
	if ca.Name != "acme app" || cb.Name != "globex app" {
		t.Fatalf("names %q %q", ca.Name, cb.Name)
	}
	if _, err := a.ConsumeCode(bg, "h1"); err != nil {
		t.Fatalf("a's code was consumed by b: %v", err)
	}
	if d, _ := root.Clients().Get(bg, "app"); d != nil {
		t.Fatal("the default tenant sees a named tenant's client")
	}
}

// testTenantNames: tenant ids that differ only by characters a driver might
// strip or use as a separator are still distinct tenants.
func testTenantNames(t *testing.T, newStore NewStore) {
	root := newStore(t)
	names := []string{"ab", "a" + storage.KeySep + "b", "a%1Fb", "a:b", "a{b}", "a b"}
	hour := time.Now().Add(time.Hour)
	for _, n := range names {
		s := root.Tenant(n)
		Expect(t, s.Clients().Create(bg, &storage.Client{ID: "app", Name: n}), nil, "client of "+fmt.Sprintf("%q", n))
		Expect(t, s.CreateCode(bg, code("h1", hour)), nil, "code of "+fmt.Sprintf("%q", n))
	}
	for _, n := range names {
		s := root.Tenant(n)
		c, err := s.Clients().Get(bg, "app")
		Expect(t, err, nil, "Get")
		if c.Name != n {
			t.Fatalf("tenant %q reads the client of %q", n, c.Name)
		}
		if list, err := storage.All(bg, s.Clients(), ""); err != nil || len(list) != 1 {
			t.Fatalf("tenant %q lists %d clients: %v", n, len(list), err)
		}
		_, err = s.ConsumeCode(bg, "h1")
		Expect(t, err, nil, fmt.Sprintf("code of %q consumed by another tenant", n))
	}
}

func testCancelled(t *testing.T, newStore NewStore) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	hour := time.Now().Add(time.Hour)
	ops := map[string]func() error{
		"Create":       func() error { return s.Clients().Create(ctx, &storage.Client{ID: "c"}) },
		"Get":          func() error { _, err := s.Clients().Get(ctx, "c"); return err },
		"List":         func() error { _, err := s.Clients().List(ctx, storage.ListQuery{}); return err },
		"UsersByEmail": func() error { _, err := s.UsersByEmail(ctx, "a@example.com", storage.ListQuery{}); return err },
		"GroupMembers": func() error { _, err := s.GroupMembers(ctx, "g", storage.ListQuery{}); return err },
		"Resolve":      func() error { _, err := s.Resolve(ctx, "c", "a"); return err },
		"CreateCode":   func() error { return s.CreateCode(ctx, code("h", hour)) },
		"ConsumeCode":  func() error { _, err := s.ConsumeCode(ctx, "h"); return err },
		"CreateFamily": func() error { return s.CreateFamily(ctx, family("f", hour), nil) },
		"RevokeToken":  func() error { return s.RevokeToken(ctx, &storage.Revocation{JTI: "j", ExpiresAt: hour}) },
		"TokenRevoked": func() error { _, err := s.TokenRevoked(ctx, "", "j"); return err },
		"CreateReq":    func() error { return s.CreateAuthRequest(ctx, authRequest("r", hour)) },
	}
	for name, op := range ops {
		if err := op(); err == nil {
			t.Errorf("%s with a cancelled context succeeded", name)
		}
	}
	if _, err := s.Clients().Get(bg, "c"); err == nil {
		t.Error("a write with a cancelled context was stored")
	}
	if _, err := s.ConsumeCode(bg, "h"); err == nil {
		t.Error("a code written with a cancelled context was stored")
	}
}

// concurrency is how many goroutines race for one single-use record.
const concurrency = 50

func testConcurrency(t *testing.T, newStore NewStore) {
	hour := time.Now().Add(time.Hour)
	race := func(f func(i int) error) (wins int, errs []error) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < concurrency; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				err := f(i)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					wins++
				} else {
					errs = append(errs, err)
				}
			}(i)
		}
		close(start)
		wg.Wait()
		return wins, errs
	}
	t.Run("ConsumeCode", func(t *testing.T) {
		s := newStore(t)
		Expect(t, s.CreateCode(bg, code("h", hour)), nil, "Create")
		wins, errs := race(func(int) error { _, err := s.ConsumeCode(bg, "h"); return err })
		if wins != 1 {
			t.Fatalf("%d goroutines consumed one code", wins)
		}
		for _, err := range errs {
			Expect(t, err, storage.ErrAlreadyUsed, "losers")
		}
	})
	t.Run("RotateRefresh", func(t *testing.T) {
		s := newStore(t)
		Expect(t, s.CreateFamily(bg, family("f", hour), refresh("f", "t0", hour)), nil, "Create")
		winner := make(chan int, concurrency)
		wins, errs := race(func(i int) error {
			_, err := s.RotateRefresh(bg, "f", "t0", refresh("f", fmt.Sprintf("n%d", i), hour))
			if err == nil {
				winner <- i
			}
			return err
		})
		if wins != 1 {
			t.Fatalf("%d rotations of one token succeeded: the family forked", wins)
		}
		for _, err := range errs {
			Expect(t, err, storage.ErrAlreadyUsed, "losers")
		}
		w := <-winner
		for i := 0; i < concurrency; i++ {
			_, err := s.GetRefresh(bg, "f", fmt.Sprintf("n%d", i))
			if (err == nil) != (i == w) {
				t.Fatalf("next token n%d stored=%v, winner n%d", i, err == nil, w)
			}
		}
	})
	t.Run("TakeAuthRequest", func(t *testing.T) {
		s := newStore(t)
		Expect(t, s.CreateAuthRequest(bg, authRequest("r", hour)), nil, "Create")
		wins, errs := race(func(int) error { _, err := s.TakeAuthRequest(bg, "r"); return err })
		if wins != 1 {
			t.Fatalf("%d goroutines took one request", wins)
		}
		for _, err := range errs {
			Expect(t, err, storage.ErrNotFound, "losers")
		}
	})
}
