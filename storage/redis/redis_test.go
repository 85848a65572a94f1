package redis_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

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
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestConformanceSingleNode(t *testing.T) {
	srv := testserver.StartRedis(t)
	storagetest.Run(t, newStoreOn(srv.Client()))
}

func TestConformanceCluster(t *testing.T) {
	rc := testserver.StartRedisCluster(t, 3)
	storagetest.Run(t, newStoreOn(rc.Client(t)))
}

// TestNoKeyOutlivesItsRecord: once every short-lived record of a test has
// expired, no key of theirs is left, indexes included.
func TestNoKeyOutlivesItsRecord(t *testing.T) {
	srv := testserver.StartRedis(t)
	rdb := srv.Client()
	s, err := redis.New(rdb, &redis.Options{Prefix: "leak"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exp := time.Now().Add(1200 * time.Millisecond)
	for i := 0; i < 20; i++ {
		id := fmt.Sprint(i)
		must(t, s.CreateAuthRequest(ctx, &storage.AuthRequest{ID: "r" + id, ExpiresAt: exp}))
		must(t, s.CreateCode(ctx, &storage.AuthCode{Hash: "c" + id, Family: "f" + id, ExpiresAt: exp}))
		_, _ = s.ConsumeCode(ctx, "c"+id)
		must(t, s.CreateFamily(ctx, &storage.Family{ID: "f" + id, ExpiresAt: exp}, &storage.RefreshToken{Hash: "t" + id, Family: "f" + id, ExpiresAt: exp}))
		_, err := s.RotateRefresh(ctx, "f"+id, "t"+id, &storage.RefreshToken{Hash: "u" + id, Family: "f" + id, ExpiresAt: exp})
		must(t, err)
		must(t, s.RevokeFamily(ctx, "f"+id))
		must(t, s.RevokeToken(ctx, &storage.Revocation{JTI: "j" + id, ExpiresAt: exp}))
		must(t, s.RevokeToken(ctx, &storage.Revocation{JTI: "f" + id + ".j", Family: "f" + id, ExpiresAt: exp}))
	}
	keys, err := rdb.Keys(ctx, "*").Result()
	must(t, err)
	if len(keys) == 0 {
		t.Fatal("no keys written")
	}
	for _, k := range keys {
		if ttl := rdb.PTTL(ctx, k).Val(); ttl < 0 {
			t.Fatalf("key %q has no TTL", k)
		}
	}
	time.Sleep(time.Until(exp) + 200*time.Millisecond)
	keys, err = rdb.Keys(ctx, "*").Result()
	must(t, err)
	if len(keys) != 0 {
		t.Fatalf("%d keys left after every record expired: %q", len(keys), keys)
	}
}

// TestLongLivedRecordsSurviveRestart: directory records carry no TTL and
// come back after a restart of a persisting server.
func TestLongLivedRecordsSurviveRestart(t *testing.T) {
	srv := testserver.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	s, err := redis.New(srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	must(t, s.APIs().Create(ctx, &storage.API{Identifier: "https://api", Name: "api"}))
	must(t, s.Clients().Create(ctx, &storage.Client{ID: "svc", Name: "svc"}))
	srv.Stop()
	srv.Start()
	rdb := srv.Client()
	s, _ = redis.New(rdb, nil)
	if _, err := s.APIs().Get(ctx, "https://api"); err != nil {
		t.Fatalf("API lost in a restart: %v", err)
	}
	if list, err := s.Clients().List(ctx, ""); err != nil || len(list) != 1 {
		t.Fatalf("client index lost in a restart: %v %d", err, len(list))
	}
	keys, _ := rdb.Keys(ctx, "*").Result()
	for _, k := range keys {
		if ttl := rdb.PTTL(ctx, k).Val(); ttl != -1 {
			t.Fatalf("long-lived key %q has a TTL of %v", k, ttl)
		}
	}
}

// TestServerDownFailsClosed: with Redis stopped every operation fails
// quickly with ErrUnavailable; once it is back the same store works.
func TestServerDownFailsClosed(t *testing.T) {
	srv := testserver.StartRedis(t)
	s, err := redis.New(srv.Client(), &redis.Options{Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	must(t, s.Clients().Create(ctx, &storage.Client{ID: "svc"}))
	srv.Stop()
	hour := time.Now().Add(time.Hour)
	ops := map[string]func() error{
		"Resolve":     func() error { _, err := s.Resolve(ctx, "svc", "x"); return err },
		"Create":      func() error { return s.APIs().Create(ctx, &storage.API{Identifier: "x"}) },
		"ConsumeCode": func() error { _, err := s.ConsumeCode(ctx, "h"); return err },
		"RotateFamily": func() error {
			_, err := s.RotateRefresh(ctx, "f", "t", &storage.RefreshToken{Hash: "n", Family: "f", ExpiresAt: hour})
			return err
		},
		"RevokeToken":  func() error { return s.RevokeToken(ctx, &storage.Revocation{JTI: "j", ExpiresAt: hour}) },
		"TokenRevoked": func() error { _, err := s.TokenRevoked(ctx, "f", "j"); return err },
	}
	for name, op := range ops {
		start := time.Now()
		err := op()
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("%s with Redis down: %v", name, err)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s hung for %v", name, time.Since(start))
		}
	}
	srv.Start()
	if _, err := s.Clients().Get(ctx, "svc"); err != nil {
		// The data is gone (no persistence in this test), but the store
		// must answer again.
		if !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("after restart: %v", err)
		}
	}
	must(t, s.Clients().Create(ctx, &storage.Client{ID: "svc2"}))
}

func TestEvictionPolicyWarning(t *testing.T) {
	srv := testserver.StartRedis(t, "--maxmemory-policy", "volatile-lru")
	s, err := redis.New(srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckConfig(context.Background()); err == nil {
		t.Fatal("volatile-lru not reported")
	}
	ok := testserver.StartRedis(t, "--maxmemory-policy", "noeviction")
	s, _ = redis.New(ok.Client(), nil)
	if err := s.CheckConfig(context.Background()); err != nil {
		t.Fatal(err)
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
	storagetest.RunFlows(t, newStoreOn(srv.Client()))
}

func TestFlowsCluster(t *testing.T) {
	rc := testserver.StartRedisCluster(t, 3)
	storagetest.RunFlows(t, newStoreOn(rc.Client(t)))
}

// TestIssuerOutage stops Redis under a running issuer and starts it again.
func TestIssuerOutage(t *testing.T) {
	srv := testserver.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	s, err := redis.New(srv.Client(), &redis.Options{Timeout: 500 * time.Millisecond})
	must(t, err)
	storagetest.RunOutage(t, s, srv.Stop, srv.Start)
}
