package redis_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/integration/flows"
	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/redis"
	"github.com/scopekit/scopekit/storage/storagetest"
)

var prefixes atomic.Int64

// newStoreOn returns stores with a fresh key prefix on one server.
func newStoreOn(rdb goredis.UniversalClient) storagetest.NewStore {
	return func(t *testing.T) storage.Store {
		s, err := redis.New(rdb, &redis.Options{Prefix: fmt.Sprintf("t%d", prefixes.Add(1))})
		must(t, err)
		return s
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestFlowsSingleNode(t *testing.T) {
	srv := testserver.StartRedis(t)
	flows.RunFlows(t, newStoreOn(srv.Client()))
}

func TestFlowsCluster(t *testing.T) {
	rc := testserver.StartRedisCluster(t, 3)
	flows.RunFlows(t, newStoreOn(rc.Client(t)))
}

// TestIssuerOutage stops Redis under a running issuer and starts it again.
func TestIssuerOutage(t *testing.T) {
	srv := testserver.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	s, err := redis.New(srv.Client(), &redis.Options{Timeout: 500 * time.Millisecond})
	must(t, err)
	flows.RunOutage(t, s, srv.Stop, srv.Start)
}
