package redis_test

import (
	"context"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/integration/flows"
	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage/redis"
)

// roundTrips counts what a go-redis client sends: one per command, one per
// pipeline however many commands it carries.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *roundTrips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// TestOneRoundTripPerOperation: client-credentials issuance and
// introspection on the Redis driver cost one network round trip each, once
// the issuer has loaded its signing keys. A script run counts once when the
// server has it cached (EVALSHA); the first run of each script is left out
// by warming up.
func TestOneRoundTripPerOperation(t *testing.T) {
	srv := testserver.StartRedis(t)
	rdb := srv.Client()
	hook := &roundTrips{}
	rdb.AddHook(hook)
	s, err := redis.New(rdb, &redis.Options{Prefix: "rt"})
	must(t, err)
	is := flows.NewIssuer(t, s)
	ctx := context.Background()
	req := &authz.TokenRequest{GrantType: "client_credentials", ClientID: "svc", ClientSecret: is.Secret,
		AuthMethod: oauth.AuthBasic, Audience: "https://flows.example.com"}
	resp, err := is.Server.Issue(ctx, req) // warm-up: signing keys, scripts
	must(t, err)
	if in, err := is.Server.Introspect(ctx, resp.AccessToken); err != nil || !in.Active {
		t.Fatalf("warm-up introspection: %+v %v", in, err)
	}
	for i := 0; i < 3; i++ {
		hook.n.Store(0)
		resp, err = is.Server.Issue(ctx, req)
		must(t, err)
		if n := hook.n.Load(); n != 1 {
			t.Fatalf("client-credentials issuance took %d round trips, want 1", n)
		}
		hook.n.Store(0)
		in, err := is.Server.Introspect(ctx, resp.AccessToken)
		if err != nil || !in.Active {
			t.Fatalf("introspection: %+v %v", in, err)
		}
		if n := hook.n.Load(); n != 1 {
			t.Fatalf("introspection took %d round trips, want 1", n)
		}
	}
}
