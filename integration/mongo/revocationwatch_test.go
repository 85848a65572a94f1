//go:build scopekit_testhooks

package mongo_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	mongodriver "go.mongodb.org/mongo-driver/mongo"

	"github.com/scopekit/scopekit/integration/mongoserver"
	"github.com/scopekit/scopekit/integration/revocationpush"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/mongo"
)

// watchStore returns a store over db with its indexes.
func watchStore(t *testing.T, db *mongodriver.Database, opts *mongo.Options) *mongo.Store {
	t.Helper()
	s, err := mongo.New(db, opts)
	must(t, err)
	_, err = s.EnsureIndexes(context.Background())
	must(t, err)
	return s
}

// notices collects what a subscription delivers.
type notices struct {
	ch  <-chan storage.RevocationNotice
	got []storage.RevocationNotice
}

// until reads notices until one satisfies want, failing after ten seconds
// or when the channel closes first.
func (n *notices) until(t *testing.T, what string, want func(storage.RevocationNotice) bool) storage.RevocationNotice {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case x, ok := <-n.ch:
			if !ok {
				t.Fatalf("the subscription closed before %s", what)
			}
			n.got = append(n.got, x)
			if want(x) {
				return x
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s; got %+v", what, n.got)
		}
	}
}

func jti(id string) func(storage.RevocationNotice) bool {
	return func(n storage.RevocationNotice) bool { return n.JTI == id }
}

// TestWatchRevocationsAcrossStores: revocations of jtis and families
// written through other stores over the same database reach the
// subscriber, each once, with the family's end as extended to the family's
// expiry; another tenant's do not.
func TestWatchRevocationsAcrossStores(t *testing.T) {
	db := mongoserver.StartMongo(t).Database(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := watchStore(t, db, &mongo.Options{Tenant: "acme"})
	pub := watchStore(t, db, &mongo.Options{Tenant: "acme"})
	other := pub.Tenant("other")
	ch, err := sub.WatchRevocations(ctx)
	must(t, err)
	n := &notices{ch: ch}
	hour := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	month := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Millisecond)

	must(t, other.RevokeToken(ctx, &storage.Revocation{JTI: "x", Family: "fx", ExpiresAt: hour}))
	must(t, other.RevokeFamily(ctx, "fx"))
	must(t, pub.RevokeToken(ctx, &storage.Revocation{JTI: "j1", Family: "f1", ExpiresAt: hour}))
	must(t, pub.RevokeFamily(ctx, "f2"))
	if got := n.until(t, "the jti", jti("j1")); got.Family != "f1" || !got.Until.Equal(hour) {
		t.Fatalf("jti notice %+v", got)
	}
	n.until(t, "the family", func(x storage.RevocationNotice) bool { return x.JTI == "" && x.Family == "f2" })

	// A live family's revocation lasts as long as the family: the notice
	// that reaches the subscriber last says so.
	must(t, pub.CreateFamily(ctx, &storage.Family{ID: "f3", ClientID: "app", ExpiresAt: month}, nil))
	must(t, pub.RevokeFamily(ctx, "f3"))
	n.until(t, "the family's revocation to its expiry", func(x storage.RevocationNotice) bool {
		return x.JTI == "" && x.Family == "f3" && x.Until.Equal(month)
	})

	// A writer whose clock lags by less than the overlap is still seen.
	lagging := pub.WithClock(func() time.Time { return time.Now().Add(-2 * time.Second) })
	must(t, lagging.RevokeToken(ctx, &storage.Revocation{JTI: "j-late", ExpiresAt: hour}))
	n.until(t, "the lagging writer's revocation", jti("j-late"))

	// Many polls have re-read j1 by now: it was delivered once.
	must(t, pub.RevokeToken(ctx, &storage.Revocation{JTI: "marker", ExpiresAt: hour}))
	n.until(t, "the marker", jti("marker"))
	count := 0
	for _, x := range n.got {
		if x.JTI == "x" || x.Family == "fx" {
			t.Fatalf("another tenant's revocation delivered: %+v", x)
		}
		if x.JTI == "j1" {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("j1 delivered %d times, want once", count)
	}
	cancel()
	revocationpush.WaitClosed(t, ch, "its context was cancelled")
}

// TestWatchRevocationsServerGone: polls that cannot reach the server close
// the channel; a subscription cannot be made while they fail.
func TestWatchRevocationsServerGone(t *testing.T) {
	srv := mongoserver.StartMongo(t)
	s := watchStore(t, srv.Database(t), nil)
	ch, err := s.WatchRevocations(context.Background())
	must(t, err)
	srv.Stop()
	revocationpush.WaitClosed(t, ch, "the server stopped")
	if _, err := s.WatchRevocations(context.Background()); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("subscribed with the server stopped: %v", err)
	}
	srv.Start()
}

// TestWatchRevocationsPollFails: a failing poll closes the channel.
func TestWatchRevocationsPollFails(t *testing.T) {
	s := watchStore(t, mongoserver.StartMongo(t).Database(t), nil)
	var fail atomic.Bool
	mongo.FailRevocationPolls(s, func() error {
		if fail.Load() {
			return storage.ErrUnavailable
		}
		return nil
	})
	ch, err := s.WatchRevocations(context.Background())
	must(t, err)
	fail.Store(true)
	revocationpush.WaitClosed(t, ch, "its polls failed")
}

// TestWatchRevocationsLimit: a poll that finds more revocations than
// RevocationPollLimit closes the channel rather than skip any, and no
// subscription starts while the window holds that many.
func TestWatchRevocationsLimit(t *testing.T) {
	s := watchStore(t, mongoserver.StartMongo(t).Database(t), &mongo.Options{RevocationPollLimit: 2})
	ctx := context.Background()
	ch, err := s.WatchRevocations(ctx)
	must(t, err)
	hour := time.Now().Add(time.Hour)
	for i := range 3 {
		must(t, s.RevokeToken(ctx, &storage.Revocation{JTI: fmt.Sprint("j", i), ExpiresAt: hour}))
	}
	revocationpush.WaitClosed(t, ch, "a poll found more than its limit")
	if _, err := s.WatchRevocations(ctx); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("subscribed over more revocations than the limit: %v", err)
	}
}

// pushStores returns stores over one database, for revocationpush; while
// *lost is set their revocation polls fail.
func pushStores(db *mongodriver.Database, lost *atomic.Bool) revocationpush.NewStore {
	return func(t *testing.T) revocationpush.Store {
		s := watchStore(t, db, nil)
		mongo.FailRevocationPolls(s, func() error {
			if lost.Load() {
				return storage.ErrUnavailable
			}
			return nil
		})
		return s
	}
}

func TestRevocationPushedAcrossReplicas(t *testing.T) {
	revocationpush.PushedAcrossReplicas(t, pushStores(mongoserver.StartMongo(t).Database(t), new(atomic.Bool)))
}

func TestRevocationPushOffAsksStore(t *testing.T) {
	revocationpush.PushOffAsksStore(t, pushStores(mongoserver.StartMongo(t).Database(t), new(atomic.Bool)))
}

// TestRevocationPushLostFallsBack: the subscriptions are lost by making
// their polls fail.
func TestRevocationPushLostFallsBack(t *testing.T) {
	var lost atomic.Bool
	revocationpush.PushLostFallsBack(t, pushStores(mongoserver.StartMongo(t).Database(t), &lost), func(*testing.T) { lost.Store(true) })
}
