package redis_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/integration/processtb"
	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/redis"
)

// redisAddr is the address of the redis-server TestMain starts for the
// examples.
var redisAddr string

func TestMain(m *testing.M) {
	processtb.Main(m, func(t *processtb.TB) {
		redisAddr = testserver.StartRedis(t).Addr
	})
}

// An issuer over Redis: New does no I/O, so the process checks the server's
// eviction policy once at start (CheckConfig), then issues, introspects and
// revokes a client-credentials token. A single node, Sentinel and Cluster
// take the same code with another goredis.UniversalClient.
func Example() {
	ctx := context.Background()
	rdb := goredis.NewUniversalClient(&goredis.UniversalOptions{Addrs: []string{redisAddr}, ContextTimeoutEnabled: true})
	defer rdb.Close()
	store, err := redis.New(rdb, &redis.Options{Prefix: "example"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("CheckConfig:", store.CheckConfig(ctx))

	srv, err := authz.New(ctx, authz.Config{Issuer: "https://auth.example.com/", Store: store,
		Grants: []authz.Grant{grant.ClientCredentials{}}})
	if err != nil {
		log.Fatal(err)
	}
	m := admin.New(srv)
	_ = m.CreateAPI(ctx, &storage.API{Identifier: "https://users.example.com", Scopes: []storage.Scope{{Name: "read:users"}}})
	secret, _ := m.CreateClient(ctx, &storage.Client{ID: "reporting", GrantTypes: []string{oauth.GrantClientCredentials}})
	_ = m.CreateClientGrant(ctx, &storage.ClientGrant{ClientID: "reporting", Audience: "https://users.example.com",
		Scopes: []string{"read:users"}})

	resp, err := srv.Issue(ctx, &authz.TokenRequest{GrantType: oauth.GrantClientCredentials, ClientID: "reporting",
		ClientSecret: secret, AuthMethod: oauth.AuthBasic, Audience: "https://users.example.com"})
	if err != nil {
		log.Fatal(err)
	}
	in, _ := srv.Introspect(ctx, resp.AccessToken)
	fmt.Println(in.Active, in.Scope)
	fmt.Println(srv.Revoke(ctx, "reporting", resp.AccessToken))
	in, _ = srv.Introspect(ctx, resp.AccessToken)
	fmt.Println(in.Active)
	// Output:
	// CheckConfig: <nil>
	// true read:users
	// <nil>
	// false
}
