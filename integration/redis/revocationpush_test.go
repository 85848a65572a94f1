package redis_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/redis"
)

// countingStore counts the revocation lookups that reach Redis.
type countingStore struct {
	*redis.Store
	lookups atomic.Int64
}

func (c *countingStore) TokenRevoked(ctx context.Context, family, jti string) (bool, error) {
	c.lookups.Add(1)
	return c.Store.TokenRevoked(ctx, family, jti)
}

// pushReplicas returns two issuers over one Redis, each store counting its
// revocation lookups, with a client-credentials client of the first.
func pushReplicas(t *testing.T, srv *testserver.Redis, mode authz.RevocationPushMode) (a, b *authz.Server, bs *countingStore, secret string) {
	replica := func() (*authz.Server, *countingStore) {
		rs, err := redis.New(srv.Client(), &redis.Options{Prefix: "revpush"})
		must(t, err)
		cs := &countingStore{Store: rs}
		return pushIssuer(t, cs, mode), cs
	}
	a, _ = replica()
	b, bs = replica()
	return a, b, bs, createSvc(t, a)
}

// pushIssuer returns an issuer over s granting client credentials for
// https://api.example.com.
func pushIssuer(t *testing.T, s storage.Store, mode authz.RevocationPushMode) *authz.Server {
	t.Helper()
	is, err := authz.New(context.Background(), authz.Config{Issuer: "https://auth.example.com/", Store: s,
		Grants: []authz.Grant{grant.ClientCredentials{}}, DefaultAudience: "https://api.example.com",
		RevocationPush: mode})
	must(t, err)
	t.Cleanup(func() { _ = is.Close() })
	return is
}

// createSvc creates, through s, the API and the client "svc" allowed its
// "read" scope, and returns the client's secret.
func createSvc(t *testing.T, s *authz.Server) string {
	t.Helper()
	ctx := context.Background()
	m := admin.New(s)
	must(t, m.CreateAPI(ctx, &storage.API{Identifier: "https://api.example.com", Scopes: []storage.Scope{{Name: "read"}}}))
	secret, err := m.CreateClient(ctx, &storage.Client{ID: "svc", GrantTypes: []string{oauth.GrantClientCredentials}})
	must(t, err)
	must(t, m.CreateClientGrant(ctx, &storage.ClientGrant{ClientID: "svc", Audience: "https://api.example.com", Scopes: []string{"read"}}))
	return secret
}

func issue(t *testing.T, s *authz.Server, secret string) string {
	t.Helper()
	resp, err := s.Issue(context.Background(), &authz.TokenRequest{GrantType: oauth.GrantClientCredentials,
		ClientID: "svc", ClientSecret: secret, AuthMethod: oauth.AuthBasic, Audience: "https://api.example.com"})
	must(t, err)
	return resp.AccessToken
}

// TestRevocationPushedAcrossReplicas: with revocations pushed, a token B
// verified before costs B no store call, and once A revokes it B refuses
// it, from its cache, within a bounded wait.
func TestRevocationPushedAcrossReplicas(t *testing.T) {
	a, b, bs, secret := pushReplicas(t, testserver.StartRedis(t), authz.RevocationPushOn)
	ctx := context.Background()
	raw := issue(t, a, secret)
	req := resource.Requirement{AllOf: []string{"read"}}
	if _, err := b.Authorize(ctx, raw, req); err != nil {
		t.Fatal(err)
	}
	if n := bs.lookups.Load(); n != 1 {
		t.Fatalf("fresh check: %d store lookups, want 1", n)
	}
	for range 10 {
		if _, err := b.Authorize(ctx, raw, req); err != nil {
			t.Fatal(err)
		}
	}
	if n := bs.lookups.Load(); n != 1 {
		t.Fatalf("cached checks made %d store lookups, want none", n-1)
	}
	must(t, a.Revoke(ctx, "svc", raw))
	waitFor(t, "the revocation at A refused by B", func() bool {
		_, err := b.Authorize(ctx, raw, req)
		var e *oauth.Error
		return errors.As(err, &e) && e.Is(oauth.ErrInvalidToken)
	})
	if n := bs.lookups.Load(); n != 1 {
		t.Fatalf("B refused the revoked token after %d store lookups, want none: the push must reach it", n-1)
	}
}

// TestRevocationPushOffAsksStore: the strict mode asks the store on every
// check, a cached token's included.
func TestRevocationPushOffAsksStore(t *testing.T) {
	a, b, bs, secret := pushReplicas(t, testserver.StartRedis(t), authz.RevocationPushOff)
	ctx := context.Background()
	raw := issue(t, a, secret)
	for range 3 {
		if _, err := b.Authorize(ctx, raw, resource.Requirement{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := bs.lookups.Load(); n != 3 {
		t.Fatalf("%d store lookups for 3 checks, want 3", n)
	}
	must(t, a.Revoke(ctx, "svc", raw))
	if _, err := b.Authorize(ctx, raw, resource.Requirement{}); err == nil {
		t.Fatal("revoked token accepted")
	}
}

// TestRevocationPushLostFallsBack: a revocation written while B's
// subscription is lost (its pub/sub connection killed) is never pushed to
// B, yet B refuses the token it cached, within a bounded wait: it asks the
// store once it sees the loss, and its next subscription starts afresh.
func TestRevocationPushLostFallsBack(t *testing.T) {
	srv := testserver.StartRedis(t)
	a, b, bs, secret := pushReplicas(t, srv, authz.RevocationPushOn)
	ctx := context.Background()
	raw := issue(t, a, secret)
	if _, err := b.Authorize(ctx, raw, resource.Requirement{}); err != nil {
		t.Fatal(err)
	}
	rdb := srv.Client()
	must(t, rdb.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err())
	// Revoked while B's subscription is down: written to Redis only.
	must(t, a.Revoke(ctx, "svc", raw))
	before := bs.lookups.Load()
	waitFor(t, "the token revoked while the push was down refused by B", func() bool {
		_, err := b.Authorize(ctx, raw, resource.Requirement{})
		var e *oauth.Error
		return errors.As(err, &e) && e.Is(oauth.ErrInvalidToken)
	})
	if bs.lookups.Load() == before {
		t.Fatal("refused without a store lookup, though no push could carry this revocation")
	}
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
