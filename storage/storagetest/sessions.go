package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// testSessions checks storage.Sessions: create, get, add clients
// (idempotent, bounded, atomic under concurrency), list by user, delete
// once, expiry on the store's clock, and tenant isolation.
func testSessions(t *testing.T, newStore NewStore) {
	newSession := func(clk *Clock, id, user string) *storage.OPSession {
		now := ms(clk.Now())
		return &storage.OPSession{ID: id, UserID: user, AuthTime: now.Add(-time.Minute), CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)}
	}
	t.Run("Lifecycle", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		sess := newSession(clk, "sid-1", "u1")
		Expect(t, s.CreateSession(bg, sess), nil, "CreateSession")
		Expect(t, s.CreateSession(bg, newSession(clk, "sid-1", "u2")), storage.ErrDuplicate, "CreateSession again")
		got, err := s.GetSession(bg, "sid-1")
		Expect(t, err, nil, "GetSession")
		if got.UserID != "u1" || !got.AuthTime.Equal(sess.AuthTime) || !got.ExpiresAt.Equal(sess.ExpiresAt) || len(got.Clients) != 0 {
			t.Fatalf("GetSession = %+v", got)
		}
		seen := ms(clk.Now().Add(time.Second))
		a := storage.SessionClient{ClientID: "app", Family: "fam-a"}
		Expect(t, s.AddSessionClient(bg, "sid-1", a, seen), nil, "AddSessionClient")
		Expect(t, s.AddSessionClient(bg, "sid-1", a, seen), nil, "AddSessionClient again")
		Expect(t, s.AddSessionClient(bg, "sid-1", storage.SessionClient{ClientID: "app", Family: "fam-b"}, seen), nil, "second family")
		Expect(t, s.AddSessionClient(bg, "sid-1", storage.SessionClient{}, seen), storage.ErrInvalid, "no client")
		Expect(t, s.AddSessionClient(bg, "sid-x", a, seen), storage.ErrNotFound, "unknown session")
		got, err = s.GetSession(bg, "sid-1")
		Expect(t, err, nil, "GetSession")
		if len(got.Clients) != 2 || got.Clients[0] != a || got.Clients[1].Family != "fam-b" || !got.LastSeen.Equal(seen) {
			t.Fatalf("after adds: %+v", got)
		}
		got.Clients[0].ClientID = "mutated"
		if again, _ := s.GetSession(bg, "sid-1"); again.Clients[0].ClientID != "app" {
			t.Fatal("a returned session shares memory with the store")
		}
		Expect(t, s.CreateSession(bg, newSession(clk, "sid-2", "u1")), nil, "CreateSession 2")
		Expect(t, s.CreateSession(bg, newSession(clk, "sid-3", "u2")), nil, "CreateSession 3")
		list, err := s.ListSessions(bg, "u1")
		Expect(t, err, nil, "ListSessions")
		if ids := sessionIDs(list); len(ids) != 2 || !ids["sid-1"] || !ids["sid-2"] {
			t.Fatalf("ListSessions(u1) = %v", ids)
		}
		if list, _ := s.Tenant("other").ListSessions(bg, "u1"); len(list) != 0 {
			t.Fatal("another tenant sees the sessions")
		}
		if _, err := s.Tenant("other").GetSession(bg, "sid-1"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("another tenant: %v", err)
		}
		del, err := s.DeleteSession(bg, "sid-1")
		Expect(t, err, nil, "DeleteSession")
		if len(del.Clients) != 2 || del.UserID != "u1" {
			t.Fatalf("DeleteSession returned %+v", del)
		}
		_, err = s.DeleteSession(bg, "sid-1")
		Expect(t, err, storage.ErrNotFound, "DeleteSession again")
		_, err = s.GetSession(bg, "sid-1")
		Expect(t, err, storage.ErrNotFound, "GetSession after delete")
		Expect(t, s.AddSessionClient(bg, "sid-1", a, seen), storage.ErrNotFound, "add after delete")
		if list, _ := s.ListSessions(bg, "u1"); len(list) != 1 || list[0].ID != "sid-2" {
			t.Fatalf("ListSessions after delete = %v", sessionIDs(list))
		}
		clk.Advance(time.Hour)
		_, err = s.GetSession(bg, "sid-2")
		Expect(t, err, storage.ErrNotFound, "GetSession after expiry")
		Expect(t, s.AddSessionClient(bg, "sid-2", a, seen), storage.ErrNotFound, "add after expiry")
		_, err = s.DeleteSession(bg, "sid-2")
		Expect(t, err, storage.ErrNotFound, "DeleteSession after expiry")
		if list, _ := s.ListSessions(bg, "u1"); len(list) != 0 {
			t.Fatalf("ListSessions after expiry = %v", sessionIDs(list))
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		for name, mut := range map[string]func(*storage.OPSession){
			"no id":     func(x *storage.OPSession) { x.ID = "" },
			"no user":   func(x *storage.OPSession) { x.UserID = "" },
			"no expiry": func(x *storage.OPSession) { x.ExpiresAt = time.Time{} },
		} {
			x := newSession(clk, "sid-bad", "u")
			mut(x)
			Expect(t, s.CreateSession(bg, x), storage.ErrInvalid, name)
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		Expect(t, s.CreateSession(bg, newSession(clk, "sid-full", "u")), nil, "CreateSession")
		for i := range storage.MaxSessionClients {
			Expect(t, s.AddSessionClient(bg, "sid-full", storage.SessionClient{ClientID: "c", Family: fmt.Sprint(i)}, clk.Now()), nil, "add")
		}
		Expect(t, s.AddSessionClient(bg, "sid-full", storage.SessionClient{ClientID: "c", Family: "one-more"}, clk.Now()), storage.ErrTooMany, "add past the bound")
		Expect(t, s.AddSessionClient(bg, "sid-full", storage.SessionClient{ClientID: "c", Family: "0"}, clk.Now()), nil, "add a kept one")
	})
	t.Run("Concurrent", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		Expect(t, s.CreateSession(bg, newSession(clk, "sid-c", "u")), nil, "CreateSession")
		const adders = 16
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, adders+concurrency)
		for i := range adders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs <- s.AddSessionClient(bg, "sid-c", storage.SessionClient{ClientID: "c", Family: fmt.Sprint(i)}, clk.Now())
			}()
		}
		close(start)
		wg.Wait()
		for range adders {
			Expect(t, <-errs, nil, "concurrent add")
		}
		var mu sync.Mutex
		wins := 0
		start = make(chan struct{})
		for range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				got, err := s.DeleteSession(bg, "sid-c")
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
					if len(got.Clients) != adders {
						errs <- fmt.Errorf("deleted session has %d clients, want %d", len(got.Clients), adders)
					}
				} else if !errors.Is(err, storage.ErrNotFound) {
					errs <- err
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if wins != 1 {
			t.Fatalf("%d of %d concurrent deletes got the session", wins, concurrency)
		}
	})
}

func sessionIDs(list []*storage.OPSession) map[string]bool {
	out := map[string]bool{}
	for _, s := range list {
		out[s.ID] = true
	}
	return out
}
