//go:build scopekit_testhooks

package mongo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/event"
	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/scopekit/scopekit/integration/mongoserver"
	"github.com/scopekit/scopekit/integration/revocationpush"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/mongo"
)

// pollFinds returns a database on srv whose client counts the find
// commands sent to the two collections revocation polls read.
func pollFinds(t *testing.T, srv *mongoserver.Mongo) (*mongodriver.Database, *atomic.Int64) {
	t.Helper()
	finds := new(atomic.Int64)
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName != "find" {
			return
		}
		if c, ok := e.Command.Lookup("find").StringValueOK(); ok && (strings.HasSuffix(c, "revocations") || strings.HasSuffix(c, "claims")) {
			finds.Add(1)
		}
	}}
	c, err := mongodriver.Connect(context.Background(), options.Client().ApplyURI(srv.URI).SetMonitor(mon).SetServerSelectionTimeout(time.Second))
	must(t, err)
	db := c.Database(fmt.Sprintf("scopekit_hub_%d", time.Now().UnixNano()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = c.Disconnect(ctx)
	})
	return db, finds
}

// tenantWatch is one tenant's subscription on a shared poller.
type tenantWatch struct {
	store  *mongo.Store
	cancel context.CancelFunc
	*notices
}

// watchTenants subscribes n tenant views of root, "t0" to "t<n-1>".
func watchTenants(t *testing.T, root *mongo.Store, n int) []tenantWatch {
	t.Helper()
	ws := make([]tenantWatch, n)
	for i := range ws {
		s := root.Tenant(fmt.Sprint("t", i)).(*mongo.Store)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		ch, err := s.WatchRevocations(ctx)
		must(t, err)
		ws[i] = tenantWatch{store: s, cancel: cancel, notices: &notices{ch: ch}}
	}
	return ws
}

// TestRevocationPollerSharedByTenants: thirty tenants subscribed through
// views of one store are served by one poller, two find commands per poll
// whatever the number of tenants; each revocation reaches its tenant's
// subscriber only; the poller goroutine exits when the last one leaves.
func TestRevocationPollerSharedByTenants(t *testing.T) {
	db, finds := pollFinds(t, mongoserver.StartMongo(t))
	root := watchStore(t, db, nil)
	ctx := context.Background()
	ws := watchTenants(t, root, 30)
	if n := mongo.RevocationPollers(root); n != 1 {
		t.Fatalf("%d pollers for 30 subscriptions, want 1", n)
	}

	f0, p0 := finds.Load(), mongo.RevocationPolls(root)
	revocationpush.WaitFor(t, "twenty polls", func() bool { return mongo.RevocationPolls(root) >= p0+20 })
	p1, f1 := mongo.RevocationPolls(root), finds.Load()
	// A poll under way at either end adds its two finds at most.
	if got, most := f1-f0, 2*(p1-p0)+4; got > most {
		t.Fatalf("%d find commands over %d polls for 30 tenants, want at most %d", got, p1-p0, most)
	}
	t.Logf("30 tenants: %d find commands over %d polls", f1-f0, p1-p0)

	hour := time.Now().Add(time.Hour)
	must(t, ws[7].store.RevokeToken(ctx, &storage.Revocation{JTI: "j7", ExpiresAt: hour}))
	ws[7].until(t, "tenant 7's revocation", jti("j7"))
	// The same jti revoked in two tenants is two revocations.
	must(t, ws[3].store.RevokeToken(ctx, &storage.Revocation{JTI: "shared", ExpiresAt: hour}))
	must(t, ws[4].store.RevokeToken(ctx, &storage.Revocation{JTI: "shared", ExpiresAt: hour}))
	ws[3].until(t, "tenant 3's shared", jti("shared"))
	ws[4].until(t, "tenant 4's shared", jti("shared"))
	must(t, ws[5].store.RevokeFamily(ctx, "fam5"))
	ws[5].until(t, "tenant 5's family", func(n storage.RevocationNotice) bool { return n.Family == "fam5" && n.JTI == "" })
	for _, w := range ws {
		must(t, w.store.RevokeToken(ctx, &storage.Revocation{JTI: "marker", ExpiresAt: hour}))
	}
	for i, w := range ws {
		w.until(t, fmt.Sprint("tenant ", i, "'s marker"), jti("marker"))
		for _, n := range w.got {
			if (n.JTI == "j7" && i != 7) || (n.JTI == "shared" && i != 3 && i != 4) || (n.Family == "fam5" && i != 5) {
				t.Fatalf("tenant %d received %+v", i, n)
			}
		}
	}

	for _, w := range ws {
		w.cancel()
		revocationpush.WaitClosed(t, w.ch, "its context was cancelled")
	}
	revocationpush.WaitFor(t, "the poller to exit", func() bool { return mongo.RevocationPollers(root) == 0 })
}

// TestRevocationPollerJoined: a subscription that joins a running poller
// receives every revocation written after WatchRevocations returns, even
// one written at once (the reasoning in WatchRevocations).
func TestRevocationPollerJoined(t *testing.T) {
	root := watchStore(t, mongoserver.StartMongo(t).Database(t), nil)
	ctx := context.Background()
	watchTenants(t, root, 1)
	hour := time.Now().Add(time.Hour)
	for i := range 20 {
		s := root.Tenant(fmt.Sprint("late", i))
		ch, err := s.(*mongo.Store).WatchRevocations(ctx)
		must(t, err)
		must(t, s.RevokeToken(ctx, &storage.Revocation{JTI: "now", ExpiresAt: hour}))
		(&notices{ch: ch}).until(t, fmt.Sprint("late subscriber ", i, "'s revocation"), jti("now"))
	}
	if n := mongo.RevocationPollers(root); n != 1 {
		t.Fatalf("%d pollers, want 1", n)
	}
}

// TestRevocationPollerOneLeaves: a subscription whose context ends is
// closed alone; the others, and the poller, go on.
func TestRevocationPollerOneLeaves(t *testing.T) {
	root := watchStore(t, mongoserver.StartMongo(t).Database(t), nil)
	ctx := context.Background()
	ws := watchTenants(t, root, 3)
	ws[0].cancel()
	revocationpush.WaitClosed(t, ws[0].ch, "its context was cancelled")
	hour := time.Now().Add(time.Hour)
	must(t, ws[0].store.RevokeToken(ctx, &storage.Revocation{JTI: "after", ExpiresAt: hour}))
	must(t, ws[1].store.RevokeToken(ctx, &storage.Revocation{JTI: "after", ExpiresAt: hour}))
	must(t, ws[2].store.RevokeToken(ctx, &storage.Revocation{JTI: "after", ExpiresAt: hour}))
	ws[1].until(t, "tenant 1's revocation", jti("after"))
	ws[2].until(t, "tenant 2's revocation", jti("after"))
	if n := mongo.RevocationPollers(root); n != 1 {
		t.Fatalf("%d pollers, want 1", n)
	}
}

// TestRevocationPollerFailureClosesAll: a failing poll closes every
// tenant's subscription and stops the poller; none can be made while polls
// fail, and one made afterwards starts a poller that works.
func TestRevocationPollerFailureClosesAll(t *testing.T) {
	root := watchStore(t, mongoserver.StartMongo(t).Database(t), nil)
	ctx := context.Background()
	ws := watchTenants(t, root, 5)
	var fail atomic.Bool
	mongo.FailRevocationPolls(root, func() error {
		if fail.Load() {
			return storage.ErrUnavailable
		}
		return nil
	})
	fail.Store(true)
	for i, w := range ws {
		revocationpush.WaitClosed(t, w.ch, fmt.Sprint("tenant ", i, "'s polls failed"))
	}
	revocationpush.WaitFor(t, "the poller to exit", func() bool { return mongo.RevocationPollers(root) == 0 })
	if _, err := ws[2].store.WatchRevocations(ctx); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("subscribed while polls fail: %v", err)
	}

	fail.Store(false)
	ch, err := ws[2].store.WatchRevocations(ctx)
	must(t, err)
	must(t, ws[2].store.RevokeToken(ctx, &storage.Revocation{JTI: "again", ExpiresAt: time.Now().Add(time.Hour)}))
	(&notices{ch: ch}).until(t, "the revocation after the poller restarted", jti("again"))
}

// TestRevocationPollerSlowReader: a subscriber that stops reading is
// closed once its buffer is full, rather than a notice be dropped, and the
// others keep receiving.
func TestRevocationPollerSlowReader(t *testing.T) {
	root := watchStore(t, mongoserver.StartMongo(t).Database(t), nil)
	ctx := context.Background()
	mongo.SetRevocationBuffer(root, 4)
	ws := watchTenants(t, root, 2)
	slow, fast := ws[0], ws[1]
	hour := time.Now().Add(time.Hour)
	for i := range 6 {
		must(t, slow.store.RevokeToken(ctx, &storage.Revocation{JTI: fmt.Sprint("j", i), ExpiresAt: hour}))
	}
	// Polls that began after the writes have read all six; none was read.
	p := mongo.RevocationPolls(root)
	revocationpush.WaitFor(t, "two polls after the writes", func() bool { return mongo.RevocationPolls(root) >= p+2 })
	got := 0
	for range slow.ch {
		got++
	}
	if got != cap(slow.ch) {
		t.Fatalf("the full subscription received %d notices before it closed, want its buffer's %d", got, cap(slow.ch))
	}
	must(t, fast.store.RevokeToken(ctx, &storage.Revocation{JTI: "fast", ExpiresAt: hour}))
	fast.until(t, "the reading subscriber's revocation", jti("fast"))
}
