package redis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
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
// expired, no key of theirs is left, indexes and tombstones included.
func TestNoKeyOutlivesItsRecord(t *testing.T) {
	srv := testserver.StartRedis(t)
	rdb := srv.Client()
	noKeyOutlivesItsRecord(t, rdb, func(ctx context.Context) ([]string, error) { return rdb.Keys(ctx, "*").Result() })
}

func TestNoKeyOutlivesItsRecordCluster(t *testing.T) {
	rc := testserver.StartRedisCluster(t, 3)
	rdb := rc.Client(t)
	noKeyOutlivesItsRecord(t, rdb, func(ctx context.Context) ([]string, error) {
		var mu sync.Mutex
		var all []string
		err := rdb.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
			keys, err := node.Keys(ctx, "*").Result()
			mu.Lock()
			all = append(all, keys...)
			mu.Unlock()
			return err
		})
		return all, err
	})
}

func noKeyOutlivesItsRecord(t *testing.T, rdb goredis.UniversalClient, allKeys func(context.Context) ([]string, error)) {
	s, err := redis.New(rdb, &redis.Options{Prefix: "leak"})
	if err != nil {
		t.Fatal(err)
	}
	const tombstone = 1200 * time.Millisecond
	redis.SetTombstoneLifetime(s, tombstone)
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
		must(t, s.RevokeFamily(ctx, "ghost"+id)) // a tombstone
		must(t, s.RevokeToken(ctx, &storage.Revocation{JTI: "j" + id, ExpiresAt: exp}))
		must(t, s.RevokeToken(ctx, &storage.Revocation{JTI: "f" + id + ".j", Family: "f" + id, ExpiresAt: exp}))
	}
	written := time.Now()
	keys, err := allKeys(ctx)
	must(t, err)
	if len(keys) == 0 {
		t.Fatal("no keys written")
	}
	for _, k := range keys {
		if ttl := rdb.PTTL(ctx, k).Val(); ttl < 0 {
			t.Fatalf("key %q has no TTL", k)
		}
	}
	// A tombstone lives its lifetime from its RevokeFamily, so the last one
	// written outlives exp when the loop ran slowly: wait for both. Redis
	// expires keys on its own clock, so this wait cannot be a fake clock.
	last := written.Add(tombstone)
	if last.Before(exp) {
		last = exp
	}
	time.Sleep(time.Until(last) + 300*time.Millisecond)
	keys, err = allKeys(ctx)
	must(t, err)
	if len(keys) != 0 {
		t.Fatalf("%d keys left after every record expired: %q", len(keys), keys)
	}
}

// TestTombstoneTTL: with the default lifetime, a tombstone carries a TTL of
// storage.FamilyTombstoneLifetime, so it cannot leak.
func TestTombstoneTTL(t *testing.T) {
	srv := testserver.StartRedis(t)
	rdb := srv.Client()
	s, err := redis.New(rdb, &redis.Options{Prefix: "tomb"})
	must(t, err)
	ctx := context.Background()
	must(t, s.RevokeFamily(ctx, "ghost"))
	keys := rdb.Keys(ctx, "*").Val()
	if len(keys) != 1 {
		t.Fatalf("a tombstone is one key, got %q", keys)
	}
	ttl := rdb.PTTL(ctx, keys[0]).Val()
	if ttl <= storage.FamilyTombstoneLifetime-time.Minute || ttl > storage.FamilyTombstoneLifetime {
		t.Fatalf("tombstone TTL %v, want about %v", ttl, storage.FamilyTombstoneLifetime)
	}
	redis.SetTombstoneLifetime(s, time.Second)
	clk := storagetest.NewClock()
	storagetest.TombstoneExpiry(t, s.WithClock(clk.Now), clk, time.Second)
}

// TestHungServer: with the server stopped by SIGSTOP (connections open, no
// answer), an operation fails within about Options.Timeout instead of
// waiting for the client's read timeout, and works again once the server
// continues.
func TestHungServer(t *testing.T) {
	srv := testserver.StartRedis(t)
	opts := testserver.ClientOptions(srv.Addr)
	opts.ReadTimeout, opts.WriteTimeout = 10*time.Second, 10*time.Second
	rdb := goredis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	s, err := redis.New(rdb, &redis.Options{Timeout: 300 * time.Millisecond})
	must(t, err)
	ctx := context.Background()
	must(t, s.RevokeToken(ctx, &storage.Revocation{JTI: "j", ExpiresAt: time.Now().Add(time.Hour)}))
	srv.Pause()
	for name, op := range map[string]func() error{
		"TokenRevoked": func() error { _, err := s.TokenRevoked(ctx, "", "j"); return err },
		"Resolve":      func() error { _, err := s.Resolve(ctx, "svc", "https://api"); return err },
		"RotateRefresh": func() error {
			_, err := s.RotateRefresh(ctx, "f", "t", &storage.RefreshToken{Hash: "n", Family: "f", ExpiresAt: time.Now().Add(time.Hour)})
			return err
		},
	} {
		start := time.Now()
		err := op()
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("%s on a hung server took %v with a 300ms timeout", name, took)
		}
		if !errors.Is(err, storage.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s on a hung server: %v, want ErrUnavailable with the deadline", name, err)
		}
		assertNoAddress(t, name, err, srv.Addr)
	}
	srv.Resume()
	deadline := time.Now().Add(5 * time.Second)
	for {
		revoked, err := s.TokenRevoked(ctx, "", "j")
		if err == nil {
			if !revoked {
				t.Fatal("revocation lost across the pause")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store did not recover after SIGCONT: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCorruptRecord: a stored value that does not parse is ErrCorrupt,
// without the parser's message.
func TestCorruptRecord(t *testing.T) {
	srv := testserver.StartRedis(t)
	rdb := srv.Client()
	s, err := redis.New(rdb, &redis.Options{Prefix: "bad"})
	must(t, err)
	ctx := context.Background()
	must(t, s.Clients().Create(ctx, &storage.Client{ID: "svc"}))
	keys := rdb.Keys(ctx, "*:r:*").Val()
	if len(keys) != 1 {
		t.Fatalf("record keys %q", keys)
	}
	must(t, rdb.Set(ctx, keys[0], `{"client_id": 42, "secret": "hunter2"`, 0).Err())
	_, getErr := s.Clients().Get(ctx, "svc")
	_, listErr := s.Clients().List(ctx, storage.ListQuery{})
	for name, err := range map[string]error{"Get": getErr, "List": listErr} {
		if !errors.Is(err, storage.ErrCorrupt) {
			t.Fatalf("%s of a corrupt record: %v", name, err)
		}
		if msg := err.Error(); strings.Contains(msg, "json") || strings.Contains(msg, "hunter2") || strings.Contains(msg, "unexpected") {
			t.Fatalf("%s leaks the parser's message: %q", name, msg)
		}
	}
	err = s.Users().Create(ctx, &storage.User{ID: "u", AppMetadata: map[string]any{"f": func() {}}})
	if !errors.Is(err, storage.ErrInvalid) || strings.Contains(err.Error(), "json") {
		t.Fatalf("a record that does not serialise: %v", err)
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
	if list, err := storage.All(ctx, s.Clients(), ""); err != nil || len(list) != 1 {
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
		"ListKeys":     func() error { _, err := s.Keys().List(ctx, storage.ListQuery{}); return err },
		"WatchKeys":    func() error { _, err := s.WatchKeys(ctx); return err },
	}
	for name, op := range ops {
		start := time.Now()
		err := op()
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("%s with Redis down: %v", name, err)
		}
		assertNoAddress(t, name, err, srv.Addr)
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

// TestConfigWarnings: the configuration that weakens the store is reported:
// New logs a client that ignores context deadlines (from its options, with
// no I/O), CheckConfig reports an evicting maxmemory-policy (on any master
// of a cluster, naming it); a sound setup reports nothing.
func TestConfigWarnings(t *testing.T) {
	newLogged := func(t *testing.T, c goredis.UniversalClient) (*redis.Store, string) {
		var buf bytes.Buffer
		s, err := redis.New(c, &redis.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return s, buf.String()
	}
	t.Run("EvictionPolicy", func(t *testing.T) {
		srv := testserver.StartRedis(t, "--maxmemory-policy", "volatile-lru")
		s, log := newLogged(t, srv.Client())
		if log != "" {
			t.Fatalf("New logged %q", log)
		}
		err := s.CheckConfig(t.Context())
		if err == nil || !strings.Contains(err.Error(), "volatile-lru") || !strings.Contains(err.Error(), "noeviction") {
			t.Fatalf("CheckConfig does not report volatile-lru: %v", err)
		}
	})
	t.Run("Sound", func(t *testing.T) {
		srv := testserver.StartRedis(t, "--maxmemory-policy", "noeviction")
		s, log := newLogged(t, srv.Client())
		if log != "" {
			t.Fatalf("warnings for a sound setup: %q", log)
		}
		if err := s.CheckConfig(t.Context()); err != nil {
			t.Fatalf("CheckConfig on a sound setup: %v", err)
		}
	})
	t.Run("Unreachable", func(t *testing.T) {
		// New does no I/O: a process starts before its Redis, and the
		// check says the server is unavailable rather than misconfigured.
		srv := testserver.StartRedis(t)
		c := srv.Client()
		srv.Stop()
		s, log := newLogged(t, c)
		if log != "" {
			t.Fatalf("New logged %q", log)
		}
		if err := s.CheckConfig(t.Context()); !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("CheckConfig with Redis down: %v", err)
		}
	})
	t.Run("ContextTimeoutDisabled", func(t *testing.T) {
		srv := testserver.StartRedis(t)
		opts := testserver.ClientOptions(srv.Addr)
		opts.ContextTimeoutEnabled = false
		c := goredis.NewClient(opts)
		defer c.Close()
		if _, log := newLogged(t, c); !strings.Contains(log, "ContextTimeoutEnabled") {
			t.Fatalf("no warning about ContextTimeoutEnabled: %q", log)
		}
		cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: []string{srv.Addr}})
		defer cc.Close()
		if _, known := redis.ContextTimeouts(cc); !known {
			t.Fatal("a ClusterClient's options are not inspected")
		}
		ring := goredis.NewRing(&goredis.RingOptions{Addrs: map[string]string{"a": srv.Addr}, ContextTimeoutEnabled: true})
		defer ring.Close()
		if enabled, known := redis.ContextTimeouts(ring); !known || !enabled {
			t.Fatal("a Ring's options are not inspected")
		}
	})
	t.Run("ClusterEvictionOnOneMaster", func(t *testing.T) {
		rc := testserver.StartRedisCluster(t, 3)
		// Only the last master evicts: a check of one random node would
		// miss it two times in three.
		node := goredis.NewClient(testserver.ClientOptions(rc.Addrs[2]))
		defer node.Close()
		must(t, node.ConfigSet(context.Background(), "maxmemory-policy", "allkeys-lru").Err())
		for i := 0; i < 3; i++ {
			s, _ := newLogged(t, rc.Client(t))
			if err := s.CheckConfig(t.Context()); err == nil || !strings.Contains(err.Error(), "allkeys-lru") || !strings.Contains(err.Error(), rc.Addrs[2]) {
				t.Fatalf("no error naming the evicting master: %v", err)
			}
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// assertNoAddress fails when a backend error's text names the server or
// the socket: it reaches logs and, mapped, responses.
func assertNoAddress(t *testing.T, op string, err error, addr string) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	msg := err.Error()
	for _, leak := range []string{addr, host, ":" + port, "dial", "tcp", "i/o"} {
		if strings.Contains(msg, leak) {
			t.Fatalf("%s: the error %q carries %q", op, msg, leak)
		}
	}
}
