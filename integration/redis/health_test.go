package redis_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/redis"
)

// TestReadinessRedisDown: an issuer over Redis is ready while Redis
// answers PING, not ready (503, Retry-After, no address or driver text)
// while it is stopped, and ready again once it is back.
func TestReadinessRedisDown(t *testing.T) {
	srv := testserver.StartRedis(t)
	s, err := redis.New(srv.Client(), &redis.Options{Prefix: "health"})
	must(t, err)
	ctx := context.Background()
	is, err := authz.New(ctx, authz.Config{Issuer: "https://auth.example.com/", Store: s,
		Grants: []authz.Grant{grant.ClientCredentials{}}})
	must(t, err)
	t.Cleanup(func() { _ = is.Close() })
	h := is.ReadinessHandler()
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec
	}
	if rec := get(); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"ok"`) {
		t.Fatalf("up: %d %s", rec.Code, rec.Body)
	}
	must(t, s.Check(ctx))

	srv.Stop()
	rec := get()
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), `"store":"unavailable"`) {
		t.Fatalf("down: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if body := rec.Body.String(); strings.Contains(body, "127.0.0.1") || strings.Contains(body, "refused") || strings.Contains(body, "dial") {
		t.Fatalf("internal text leaks: %s", body)
	}
	if err := is.Check(ctx); !errors.Is(err, storage.ErrUnavailable) || strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("Check while down: %v", err)
	}

	srv.Start()
	if rec := get(); rec.Code != 200 {
		t.Fatalf("back: %d %s", rec.Code, rec.Body)
	}
}

// TestCheckClusterPingsEveryMaster: on Redis Cluster, Check fails when any
// master is down, every time, not only when the node a keyless PING would
// reach at random is the one down.
func TestCheckClusterPingsEveryMaster(t *testing.T) {
	rc := testserver.StartRedisCluster(t, 3)
	s, err := redis.New(rc.Client(t), nil)
	must(t, err)
	ctx := context.Background()
	must(t, s.Check(ctx))
	rc.Node(len(rc.Addrs) - 1).Stop()
	for i := 0; i < 10; i++ {
		if err := s.Check(ctx); !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("check %d with a master down: %v", i, err)
		}
	}
}
