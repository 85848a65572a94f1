package tenant_test

import (
	"testing"

	"github.com/scopekit/scopekit/integration/mongoserver"
	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage/memory"
	"github.com/scopekit/scopekit/storage/mongo"
	"github.com/scopekit/scopekit/storage/redis"
)

func TestTenantsMemory(t *testing.T) { runTenants(t, memory.New()) }

func TestTenantsRedis(t *testing.T) {
	srv := testserver.StartRedis(t)
	s, err := redis.New(srv.Client(), nil)
	must(t, err)
	runTenants(t, s)
}

func TestTenantsRedisCluster(t *testing.T) {
	rc := testserver.StartRedisCluster(t, 3)
	s, err := redis.New(rc.Client(t), nil)
	must(t, err)
	runTenants(t, s)
}

func TestTenantsMongo(t *testing.T) {
	srv := mongoserver.StartMongo(t)
	s, err := mongo.New(srv.Database(t), nil)
	must(t, err)
	if _, err := s.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	runTenants(t, s)
}
