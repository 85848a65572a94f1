package redis_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/integration/revocationpush"
	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/redis"
)

// commandNames records the name of every command a go-redis client sends.
type commandNames struct {
	mu    sync.Mutex
	names []string
}

func (h *commandNames) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *commandNames) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.mu.Lock()
		h.names = append(h.names, cmd.Name())
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *commandNames) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.mu.Lock()
		h.names = append(h.names, "pipeline")
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

// take returns the names recorded since the last call.
func (h *commandNames) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.names
	h.names = nil
	return n
}

// TestRevocationAnnouncedByItsWrite (single node and a 3-node Cluster): a
// revocation is written and announced by one command, the script that
// stores it, so no announcement can fail (a timeout, a failover) after the
// write was acknowledged; a subscriber on another connection (on Cluster,
// subscribed at whichever node the channel maps to, while the script runs
// on the shard of the revoked key) receives every one.
func TestRevocationAnnouncedByItsWrite(t *testing.T) {
	t.Run("single node", func(t *testing.T) {
		srv := testserver.StartRedis(t)
		announcedByWrite(t, srv.Client(), srv.Client())
	})
	t.Run("cluster", func(t *testing.T) {
		rc := testserver.StartRedisCluster(t, 3)
		announcedByWrite(t, rc.Client(t), rc.Client(t))
	})
}

func announcedByWrite(t *testing.T, pubClient, subClient goredis.UniversalClient) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hook := &commandNames{}
	pubClient.AddHook(hook)
	pub, err := redis.New(pubClient, &redis.Options{Prefix: "ann"})
	must(t, err)
	sub, err := redis.New(subClient, &redis.Options{Prefix: "ann"})
	must(t, err)
	ch, err := sub.WatchRevocations(ctx)
	must(t, err)
	next := func() storage.RevocationNotice {
		t.Helper()
		select {
		case n, ok := <-ch:
			if !ok {
				t.Fatal("subscription ended")
			}
			return n
		case <-time.After(5 * time.Second):
			t.Fatal("no announcement within 5 s")
		}
		return storage.RevocationNotice{}
	}
	exp := time.Now().Add(time.Hour)
	one := func(what string, revoke func() error, want func(storage.RevocationNotice) bool) {
		t.Helper()
		hook.take()
		must(t, revoke())
		names := hook.take()
		if n := next(); !want(n) {
			t.Fatalf("%s announced %+v", what, n)
		}
		if len(names) != 1 || names[0] != "evalsha" {
			t.Fatalf("%s sent %v, want one EVALSHA: an announcement sent as a command of its own can fail after the write", what, names)
		}
	}
	// Several ids, so that on Cluster the keys fall on several shards.
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		// Warm-up: the first run of a script on a node costs NOSCRIPT and EVAL.
		must(t, pub.RevokeToken(ctx, &storage.Revocation{JTI: id + ".j", Family: id, ExpiresAt: exp}))
		must(t, pub.RevokeFamily(ctx, id))
		next()
		next()
		one("RevokeToken", func() error {
			return pub.RevokeToken(ctx, &storage.Revocation{JTI: id + ".j", Family: id, ExpiresAt: exp})
		}, func(n storage.RevocationNotice) bool {
			return n.JTI == id+".j" && n.Until.Equal(exp.Truncate(time.Millisecond))
		})
		one("RevokeFamily", func() error { return pub.RevokeFamily(ctx, id) },
			func(n storage.RevocationNotice) bool { return n.Family == id && n.JTI == "" })
	}
}

// TestRevocationNotAnnouncedNotStored: a Redis user that may not publish
// on the revocations channel (Redis 7's default for a new ACL user is no
// channel at all) cannot revoke either: RevokeToken and RevokeFamily fail
// and store nothing, and the issuer answers the revocation 503, rather
// than acknowledging a revocation that servers holding the token in their
// cache never learn of.
func TestRevocationNotAnnouncedNotStored(t *testing.T) {
	srv := testserver.StartRedis(t)
	ctx := context.Background()
	admin := srv.Client()
	must(t, admin.Do(ctx, "ACL", "SETUSER", "nochannels", "on", ">pw", "~*", "+@all", "resetchannels").Err())
	opts := testserver.ClientOptions(srv.Addr)
	opts.Username, opts.Password = "nochannels", "pw"
	restricted := goredis.NewClient(opts)
	t.Cleanup(func() { restricted.Close() })
	rs, err := redis.New(restricted, &redis.Options{Prefix: "revpush"})
	must(t, err)
	full, err := redis.New(admin, &redis.Options{Prefix: "revpush"})
	must(t, err)

	exp := time.Now().Add(time.Hour)
	if err := rs.RevokeToken(ctx, &storage.Revocation{JTI: "j1", ExpiresAt: exp}); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("RevokeToken without the right to announce: %v, want ErrUnavailable", err)
	}
	if err := rs.RevokeToken(ctx, &storage.Revocation{JTI: "fam.j2", Family: "fam", ExpiresAt: exp}); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("RevokeToken (family) without the right to announce: %v, want ErrUnavailable", err)
	}
	if err := rs.RevokeFamily(ctx, "fam"); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("RevokeFamily without the right to announce: %v, want ErrUnavailable", err)
	}
	for _, c := range [][2]string{{"", "j1"}, {"fam", "fam.j2"}, {"fam", "other"}} {
		if revoked, err := full.TokenRevoked(ctx, c[0], c[1]); err != nil || revoked {
			t.Fatalf("TokenRevoked(%q, %q) = %v, %v after a failed revocation: half-written", c[0], c[1], revoked, err)
		}
	}
	if keys, err := admin.Keys(ctx, "*").Result(); err != nil || len(keys) != 0 {
		t.Fatalf("keys %v (%v) after failed revocations", keys, err)
	}

	// Through the issuers: B cached the token; A, on the restricted user,
	// answers its revocation 503, and the token is still valid in the
	// store as in B's cache: consistent, and the caller knows to retry.
	a, b := revocationpush.Issuer(t, rs, authz.RevocationPushOn), revocationpush.Issuer(t, full, authz.RevocationPushOn)
	secret := revocationpush.CreateSvc(t, b)
	raw := revocationpush.Issue(t, b, secret)
	if _, err := b.Authorize(ctx, raw, resource.Requirement{}); err != nil {
		t.Fatal(err)
	}
	err = a.Revoke(ctx, "svc", raw)
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Status != 503 {
		t.Fatalf("a revocation that cannot be announced answered %v, want 503", err)
	}
	if in, err := b.Introspect(ctx, raw); err != nil || !in.Active {
		t.Fatalf("introspection after the failed revocation: %+v %v, want active (nothing stored)", in, err)
	}
}
