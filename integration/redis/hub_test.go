package redis_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/integration/revocationpush"
	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/redis"
)

// hubNodes are the servers of a deployment, each with a client of its own
// to count and kill its pub/sub connections.
type hubNodes []*goredis.Client

// pubsubConns is the number of pub/sub connections, summed over the nodes.
func (n hubNodes) pubsubConns(t *testing.T) int {
	t.Helper()
	total := 0
	for _, c := range n {
		list, err := c.Do(context.Background(), "CLIENT", "LIST", "TYPE", "pubsub").Text()
		must(t, err)
		total += strings.Count(list, "\n")
	}
	return total
}

// subscribers is the number of subscribers of channel, summed over the
// nodes (PUBSUB NUMSUB counts a node's own connections).
func (n hubNodes) subscribers(t *testing.T, channel string) int64 {
	t.Helper()
	var total int64
	for _, c := range n {
		res, err := c.PubSubNumSub(context.Background(), channel).Result()
		must(t, err)
		total += res[channel]
	}
	return total
}

// kill closes every pub/sub connection of the deployment.
func (n hubNodes) kill(t *testing.T) {
	t.Helper()
	for _, c := range n {
		must(t, c.Do(context.Background(), "CLIENT", "KILL", "TYPE", "pubsub").Err())
	}
}

// watcher is what a tenant's Redis store offers for pushes.
type watcher interface {
	storage.Store
	storage.RevocationWatcher
	storage.KeyWatcher
}

// tenantWatch is one tenant's two subscriptions.
type tenantWatch struct {
	cancel context.CancelFunc
	revs   <-chan storage.RevocationNotice
	keys   <-chan struct{}
}

// TestOnePubSubConnectionForAllTenants (single node and a 3-node Cluster):
// 50 tenant stores of one redis.New, half of them through WithClock,
// watching revocations and key changes hold one pub/sub connection; each
// tenant's pushes reach its own subscribers only; a cancelled subscriber
// leaves the others working and its channel is unsubscribed once its last
// subscriber left; the last one leaving closes the connection, and no
// goroutine is left behind.
func TestOnePubSubConnectionForAllTenants(t *testing.T) {
	t.Run("single node", func(t *testing.T) {
		srv := testserver.StartRedis(t)
		oneConnection(t, srv.Client(), srv.Client(), hubNodes{srv.Client()})
	})
	t.Run("cluster", func(t *testing.T) {
		rc := testserver.StartRedisCluster(t, 3)
		var nodes hubNodes
		for i := range rc.Addrs {
			nodes = append(nodes, rc.Node(i).Client())
		}
		oneConnection(t, rc.Client(t), rc.Client(t), nodes)
	})
}

const hubTenants = 50

// watchTenants watches revocations and keys of n tenants of root.
func watchTenants(t *testing.T, root *redis.Store, n int) []tenantWatch {
	t.Helper()
	w := make([]tenantWatch, n)
	for i := range w {
		var st storage.Store = root.Tenant(fmt.Sprintf("t%d", i))
		if i%2 == 1 {
			st = st.WithClock(time.Now)
		}
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		revs, err := st.(watcher).WatchRevocations(ctx)
		must(t, err)
		keys, err := st.(watcher).WatchKeys(ctx)
		must(t, err)
		w[i] = tenantWatch{cancel, revs, keys}
	}
	return w
}

func oneConnection(t *testing.T, subClient, pubClient goredis.UniversalClient, nodes hubNodes) {
	ctx := context.Background()
	root, err := redis.New(subClient, &redis.Options{Prefix: "hub"})
	must(t, err)
	pubRoot, err := redis.New(pubClient, &redis.Options{Prefix: "hub"})
	must(t, err)
	pub := func(i int) watcher { return pubRoot.Tenant(fmt.Sprintf("t%d", i)).(watcher) }
	must(t, subClient.Ping(ctx).Err())
	nodes.pubsubConns(t)
	baseline := runtime.NumGoroutine()

	w := watchTenants(t, root, hubTenants)
	if n := nodes.pubsubConns(t); n != 1 {
		t.Fatalf("%d tenants watching revocations and keys hold %d pub/sub connections, want 1", hubTenants, n)
	}

	// A revocation and a key change of tenant 7 reach tenant 7 only.
	exp := time.Now().Add(time.Hour)
	must(t, pub(7).RevokeToken(ctx, &storage.Revocation{JTI: "j7", Family: "f7", ExpiresAt: exp}))
	if n := recvRev(t, w[7].revs); n.JTI != "j7" {
		t.Fatalf("tenant 7 received %+v", n)
	}
	must(t, pub(7).Keys().Create(ctx, &storage.SigningKey{ID: "k7", Alg: "ES256", JWK: []byte(`{}`), CreatedAt: time.Now()}))
	recvKey(t, w[7].keys)
	// The hub hands a message to every subscriber of its channel in one
	// step: had any other tenant been given tenant 7's, it would be there.
	for i, tw := range w {
		if i == 7 {
			continue
		}
		select {
		case n := <-tw.revs:
			t.Fatalf("tenant %d received tenant 7's revocation %+v", i, n)
		case <-tw.keys:
			t.Fatalf("tenant %d received tenant 7's key change", i)
		default:
		}
	}

	// A second subscriber of tenant 3: cancelling the first leaves it
	// working; cancelling both unsubscribes the channel, and the other
	// tenants keep working on the same connection.
	extraCtx, extraCancel := context.WithCancel(ctx)
	defer extraCancel()
	extra, err := root.Tenant("t3").(watcher).WatchRevocations(extraCtx)
	must(t, err)
	w[3].cancel()
	revocationpush.WaitClosed(t, w[3].revs, "the watch ended")
	revocationpush.WaitClosed(t, w[3].keys, "the watch ended")
	must(t, pub(3).RevokeFamily(ctx, "f3"))
	if n := recvRev(t, extra); n.Family != "f3" {
		t.Fatalf("the remaining subscriber of tenant 3 received %+v", n)
	}
	extraCancel()
	revocationpush.WaitClosed(t, extra, "the watch ended")
	revocationpush.WaitFor(t, "tenant 3's channels unsubscribed", func() bool {
		return nodes.subscribers(t, "{hub:t3}:revoked") == 0 && nodes.subscribers(t, "{hub:t3}:keys:changed") == 0
	})
	must(t, pub(4).RevokeFamily(ctx, "f4"))
	if n := recvRev(t, w[4].revs); n.Family != "f4" {
		t.Fatalf("tenant 4 received %+v", n)
	}
	if n := nodes.pubsubConns(t); n != 1 {
		t.Fatalf("%d pub/sub connections after subscribers left, want 1", n)
	}

	// The last subscriber leaving closes the connection and ends every
	// goroutine the watches started.
	for i, tw := range w {
		tw.cancel()
		revocationpush.WaitClosed(t, tw.revs, "the watch ended")
		revocationpush.WaitClosed(t, tw.keys, "the watch ended")
		if i == hubTenants-2 && nodes.pubsubConns(t) != 1 {
			t.Fatal("the connection closed before its last subscriber left")
		}
	}
	revocationpush.WaitFor(t, "no pub/sub connection once every subscriber left", func() bool { return nodes.pubsubConns(t) == 0 })
	revocationpush.WaitFor(t, "the watches' goroutines ended", func() bool { return runtime.NumGoroutine() <= baseline })
}

// TestPubSubConnectionLostClosesEverySubscriber: CLIENT KILL TYPE pubsub
// closes the channels of every tenant's subscribers, revocations and keys;
// a new watch afterwards opens a new connection and receives.
func TestPubSubConnectionLostClosesEverySubscriber(t *testing.T) {
	srv := testserver.StartRedis(t)
	nodes := hubNodes{srv.Client()}
	root, err := redis.New(srv.Client(), &redis.Options{Prefix: "hub"})
	must(t, err)
	w := watchTenants(t, root, hubTenants)
	nodes.kill(t)
	for _, tw := range w {
		revocationpush.WaitClosed(t, tw.revs, "the watch ended")
		revocationpush.WaitClosed(t, tw.keys, "the watch ended")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := root.Tenant("t7").(watcher)
	revs, err := st.WatchRevocations(ctx)
	must(t, err)
	keys, err := st.WatchKeys(ctx)
	must(t, err)
	must(t, st.RevokeToken(ctx, &storage.Revocation{JTI: "j", Family: "f", ExpiresAt: time.Now().Add(time.Hour)}))
	if n := recvRev(t, revs); n.JTI != "j" {
		t.Fatalf("received %+v", n)
	}
	must(t, st.Keys().Create(ctx, &storage.SigningKey{ID: "k", Alg: "ES256", JWK: []byte(`{}`), CreatedAt: time.Now()}))
	recvKey(t, keys)
	revocationpush.WaitFor(t, "one pub/sub connection after the new watch", func() bool { return nodes.pubsubConns(t) == 1 })
}

// TestSlowRevocationSubscriberClosed: a revocation subscriber that does not
// read is closed once its buffer is full, never left behind silently, and
// does not hold up another subscriber of the same channel; a key
// subscriber that does not read gets one notice for many changes.
func TestSlowRevocationSubscriberClosed(t *testing.T) {
	srv := testserver.StartRedis(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := redis.New(srv.Client(), &redis.Options{Prefix: "slow"})
	must(t, err)
	slow, err := st.WatchRevocations(ctx)
	must(t, err)
	fast, err := st.WatchRevocations(ctx)
	must(t, err)
	keys, err := st.WatchKeys(ctx)
	must(t, err)
	const n = 400
	exp := time.Now().Add(time.Hour)
	for i := range n {
		must(t, st.RevokeToken(ctx, &storage.Revocation{JTI: fmt.Sprint("j", i), Family: "f", ExpiresAt: exp}))
		if got := recvRev(t, fast); got.JTI != fmt.Sprint("j", i) {
			t.Fatalf("revocation %d received as %+v", i, got)
		}
	}
	got := 0
	for range slow {
		got++
	}
	if got >= n {
		t.Fatalf("the slow subscriber received all %d revocations, want it closed once its buffer was full", got)
	}
	for i := range 5 {
		must(t, st.Keys().Create(ctx, &storage.SigningKey{ID: fmt.Sprint("k", i), Alg: "ES256", JWK: []byte(`{}`), CreatedAt: time.Now()}))
	}
	must(t, st.RevokeFamily(ctx, "sync"))
	recvRev(t, fast) // every key change was dispatched before it
	recvKey(t, keys)
	select {
	case _, ok := <-keys:
		t.Fatalf("a second key notice (open: %v) for changes made while one was pending", ok)
	default:
	}
}

// recvRev waits for a revocation notice.
func recvRev(t *testing.T, ch <-chan storage.RevocationNotice) storage.RevocationNotice {
	t.Helper()
	select {
	case n, ok := <-ch:
		if !ok {
			t.Fatal("the revocation subscription ended")
		}
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no revocation notice within 10 s")
	}
	return storage.RevocationNotice{}
}

// recvKey waits for a key-change notice.
func recvKey(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatal("the key subscription ended")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no key-change notice within 10 s")
	}
}
