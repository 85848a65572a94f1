package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/scopekit/scopekit/integration/revocationpush"
	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/redis"
)

// pushStores returns stores over one Redis, for revocationpush.
func pushStores(srv *testserver.Redis) revocationpush.NewStore {
	return func(t *testing.T) revocationpush.Store {
		rs, err := redis.New(srv.Client(), &redis.Options{Prefix: "revpush"})
		must(t, err)
		return rs
	}
}

func TestRevocationPushedAcrossReplicas(t *testing.T) {
	revocationpush.PushedAcrossReplicas(t, pushStores(testserver.StartRedis(t)))
}

func TestRevocationPushOffAsksStore(t *testing.T) {
	revocationpush.PushOffAsksStore(t, pushStores(testserver.StartRedis(t)))
}

// TestRevocationPushLostFallsBack: the subscription is lost by killing the
// pub/sub connections (CLIENT KILL TYPE pubsub).
func TestRevocationPushLostFallsBack(t *testing.T) {
	srv := testserver.StartRedis(t)
	revocationpush.PushLostFallsBack(t, pushStores(srv), func(t *testing.T) {
		must(t, srv.Client().Do(context.Background(), "CLIENT", "KILL", "TYPE", "pubsub").Err())
	})
}

// TestWatchRevocationsDeliversBoth: RevokeToken and RevokeFamily written
// through one store reach the subscriber of another.
func TestWatchRevocationsDeliversBoth(t *testing.T) {
	srv := testserver.StartRedis(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := redis.New(srv.Client(), &redis.Options{Prefix: "w"})
	must(t, err)
	pub, err := redis.New(srv.Client(), &redis.Options{Prefix: "w"})
	must(t, err)
	ch, err := sub.WatchRevocations(ctx)
	must(t, err)
	exp := time.Now().Add(time.Hour)
	must(t, pub.RevokeToken(ctx, &storage.Revocation{JTI: "fam.j1", Family: "fam", ExpiresAt: exp}))
	must(t, pub.RevokeFamily(ctx, "fam2"))
	if n := <-ch; n.JTI != "fam.j1" || !n.Until.Equal(exp.Truncate(time.Millisecond)) {
		t.Fatalf("token notice %+v", n)
	}
	if n := <-ch; n.JTI != "" || n.Family != "fam2" {
		t.Fatalf("family notice %+v", n)
	}
	cancel()
	for range ch {
	}
}
