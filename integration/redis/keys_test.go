package redis_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/integration/revocationpush"
	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage/redis"
	"github.com/scopekit/scopekit/token"
)

// TestKeyChangesPushedAcrossReplicas: two issuers over one Redis, whose
// periodic reload is an hour away, see each other's rotation and removal
// through the store's pub/sub announcement.
func TestKeyChangesPushedAcrossReplicas(t *testing.T) {
	srv := testserver.StartRedis(t)
	replica := func() *authz.Server {
		s, err := redis.New(srv.Client(), &redis.Options{Prefix: "push"})
		must(t, err)
		is, err := authz.New(context.Background(), authz.Config{Issuer: "https://auth.example.com/", Store: s,
			Grants: []authz.Grant{grant.ClientCredentials{}}, KeyReloadInterval: time.Hour})
		must(t, err)
		t.Cleanup(func() { _ = is.Close() })
		return is
	}
	a, b := replica(), replica()
	ctx := context.Background()
	kid, err := a.RotateKey(ctx, token.ES256)
	must(t, err)
	revocationpush.WaitFor(t, "the rotated key published at the other replica", func() bool {
		return bytes.Contains(b.Keys().JWKS(), []byte(kid))
	})
	must(t, a.RemoveKey(ctx, kid))
	revocationpush.WaitFor(t, "the removed key dropped at the other replica", func() bool {
		return !bytes.Contains(b.Keys().JWKS(), []byte(kid))
	})
}
