package redis_test

import (
	"context"
	"testing"

	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/redis"
)

// TestDropTenantEscapesPatterns: a prefix with glob characters matches
// itself only, so dropping a tenant under prefix "a*b" leaves the same
// tenant under prefix "aXb" alone.
func TestDropTenantEscapesPatterns(t *testing.T) {
	srv := testserver.StartRedis(t)
	ctx := context.Background()
	glob, err := redis.New(srv.Client(), &redis.Options{Prefix: "a*b"})
	must(t, err)
	plain, err := redis.New(srv.Client(), &redis.Options{Prefix: "aXb"})
	must(t, err)
	for _, s := range []storage.Store{glob.Tenant("t"), plain.Tenant("t")} {
		must(t, s.Clients().Create(ctx, &storage.Client{ID: "app"}))
		must(t, s.RevokeFamily(ctx, "fam"))
	}
	must(t, glob.DropTenant(ctx, "t"))
	if _, err := glob.Tenant("t").Clients().Get(ctx, "app"); err != storage.ErrNotFound {
		t.Fatalf("dropped tenant's client: %v", err)
	}
	if _, err := plain.Tenant("t").Clients().Get(ctx, "app"); err != nil {
		t.Fatalf("the other prefix's client: %v", err)
	}
	if revoked, err := plain.Tenant("t").TokenRevoked(ctx, "fam", "j"); err != nil || !revoked {
		t.Fatalf("the other prefix's family tombstone: %v %v", revoked, err)
	}
}
