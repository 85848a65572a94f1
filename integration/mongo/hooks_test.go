//go:build scopekit_testhooks

package mongo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/scopekit/scopekit/integration/mongoserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/mongo"
	"github.com/scopekit/scopekit/storage/storagetest"
)

// The tests of this file use the hooks of storage/mongo/testhooks.go, built
// with the tag scopekit_testhooks (hooks_tag_test.go fails without it).

func TestTombstoneExpiry(t *testing.T) {
	srv := mongoserver.StartMongo(t)
	clk := storagetest.NewClock()
	s, err := mongo.New(srv.Database(t), &mongo.Options{Now: clk.Now})
	must(t, err)
	_, err = s.EnsureIndexes(context.Background())
	must(t, err)
	mongo.SetTombstoneLifetime(s, time.Second)
	storagetest.TombstoneExpiry(t, s, clk, time.Second)
	n, err := s.Purge(context.Background())
	must(t, err)
	if n != 1 {
		t.Fatalf("Purge deleted %d records, want the expired tombstone", n)
	}
}

// TestFailureAfterClaim makes the write that follows each claim fail, as a
// server going away between two steps would: nothing is half-written.
func TestFailureAfterClaim(t *testing.T) {
	srv := mongoserver.StartMongo(t)
	ctx := context.Background()
	hour := time.Now().Add(time.Hour)
	newStore := func(t *testing.T) *mongo.Store {
		s, err := mongo.New(srv.Database(t), nil)
		must(t, err)
		return s
	}
	t.Run("TakeAuthRequest", func(t *testing.T) {
		s := newStore(t)
		mongo.FailAfterClaim(s, "ar", storage.ErrUnavailable)
		must(t, s.CreateAuthRequest(ctx, &storage.AuthRequest{ID: "r", ClientID: "app", ExpiresAt: hour}))
		r, err := s.TakeAuthRequest(ctx, "r")
		if err != nil || r.ClientID != "app" {
			t.Fatalf("Take: %+v %v", r, err)
		}
		if _, err := s.GetAuthRequest(ctx, "r"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("a taken request is still returned: %v", err)
		}
		if _, err := s.TakeAuthRequest(ctx, "r"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("a taken request is taken twice: %v", err)
		}
	})
	t.Run("ConsumeCode", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateCode(ctx, &storage.AuthCode{Hash: "h", Family: "fam", ExpiresAt: hour}))
		mongo.FailAfterClaim(s, "code", storage.ErrUnavailable)
		if _, err := s.ConsumeCode(ctx, "h"); !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("Consume with the connection lost: %v", err)
		}
		mongo.FailAfterClaim(s, "", nil)
		c, err := s.ConsumeCode(ctx, "h")
		if !errors.Is(err, storage.ErrAlreadyUsed) || c == nil || c.Family != "fam" {
			t.Fatalf("the claimed code is not used: %+v %v", c, err)
		}
	})
	t.Run("RotateRefresh", func(t *testing.T) {
		s := newStore(t)
		rt := func(h string) *storage.RefreshToken {
			return &storage.RefreshToken{Hash: h, Family: "f", ClientID: "app", ExpiresAt: hour}
		}
		must(t, s.CreateFamily(ctx, &storage.Family{ID: "f", ExpiresAt: hour}, rt("t1")))
		mongo.FailAfterClaim(s, "rt", storage.ErrUnavailable)
		for _, step := range [][2]string{{"t1", "t2"}, {"t2", "t3"}} {
			if _, err := s.RotateRefresh(ctx, "f", step[0], rt(step[1])); err != nil {
				t.Fatalf("rotation %s -> %s with the tidy-up failing: %v", step[0], step[1], err)
			}
		}
		mongo.FailAfterClaim(s, "", nil)
		for _, h := range []string{"t1", "t2"} {
			got, err := s.GetRefresh(ctx, "f", h)
			if err != nil || !got.Used {
				t.Fatalf("rotated token %s: %+v %v", h, got, err)
			}
		}
		if got, err := s.GetRefresh(ctx, "f", "t3"); err != nil || got.Used {
			t.Fatalf("the current token is not current: %+v %v", got, err)
		}
		if _, err := s.RotateRefresh(ctx, "f", "t3", rt("t4")); err != nil {
			t.Fatalf("rotating the current token: %v", err)
		}
		if _, err := s.RotateRefresh(ctx, "f", "t1", rt("x")); !errors.Is(err, storage.ErrAlreadyUsed) {
			t.Fatalf("reuse after failed tidy-ups: %v", err)
		}
		if got, err := s.GetRefresh(ctx, "f", "t4"); err != nil || got.Used {
			t.Fatalf("t4: %+v %v", got, err)
		}
	})
	t.Run("PagesFollowUpdateClaims", func(t *testing.T) {
		s := newStore(t)
		for _, id := range []string{"u1", "u2", "u3"} {
			must(t, s.Users().Create(ctx, &storage.User{ID: id, Groups: []string{"g1"}}))
		}
		u2, err := s.Users().Get(ctx, "u2")
		must(t, err)
		// Two updates whose document writes fail: the document stays at the
		// first revision, two claims ahead of it.
		mongo.FailAfterClaim(s, "rev", storage.ErrUnavailable)
		u2.Groups = []string{"g2"}
		must(t, s.Users().Update(ctx, u2))
		u2.Name = "moved"
		must(t, s.Users().Update(ctx, u2))
		var listed []*storage.User
		q := storage.ListQuery{Limit: 1}
		for {
			p, err := s.Users().List(ctx, q)
			must(t, err)
			listed = append(listed, p.Items...)
			if p.Next == "" {
				break
			}
			q.After = p.Next
		}
		if len(listed) != 3 || listed[1].Name != "moved" || listed[1].Revision != u2.Revision {
			t.Fatalf("List does not follow the claims: %+v", listed[1])
		}
		p, err := s.GroupMembers(ctx, "g1", storage.ListQuery{})
		must(t, err)
		if len(p.Items) != 2 || p.Items[0].ID != "u1" || p.Items[1].ID != "u3" {
			t.Fatalf("GroupMembers(g1) lists a user a claim moved out: %+v", p.Items)
		}
		mongo.FailAfterClaim(s, "", nil)
		_, err = s.Users().Get(ctx, "u2") // brings the document forward
		must(t, err)
		p, err = s.GroupMembers(ctx, "g2", storage.ListQuery{})
		must(t, err)
		if len(p.Items) != 1 || p.Items[0].Name != "moved" {
			t.Fatalf("GroupMembers(g2) after the document caught up: %+v", p.Items)
		}
	})
}
