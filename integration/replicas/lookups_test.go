package replicas_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/mongo"
	"github.com/scopekit/scopekit/storage/redis"
)

// A replica counts the revocation lookups its store answers and serves
// the count at /revocation-lookups, so that a test can tell a cache hit
// judged by the pushed revocations (no lookup) from one that asked the
// store. The wrappers embed the driver's own type, so that every optional
// interface it implements (storage.RevocationWatcher, key watching,
// health) is still seen by the issuer.

// lookups is the replica's count.
var lookups atomic.Int64

type redisCounting struct{ *redis.Store }

func (s redisCounting) TokenRevoked(ctx context.Context, family, jti string) (bool, error) {
	lookups.Add(1)
	return s.Store.TokenRevoked(ctx, family, jti)
}

type mongoCounting struct{ *mongo.Store }

func (s mongoCounting) TokenRevoked(ctx context.Context, family, jti string) (bool, error) {
	lookups.Add(1)
	return s.Store.TokenRevoked(ctx, family, jti)
}

// countLookups wraps a store of openStore.
func countLookups(s storage.Store) storage.Store {
	switch s := s.(type) {
	case *redis.Store:
		return redisCounting{s}
	case *mongo.Store:
		return mongoCounting{s}
	}
	return s
}

// serveLookups answers the replica's count.
func serveLookups(w http.ResponseWriter, _ *http.Request) {
	_, _ = w.Write([]byte(strconv.FormatInt(lookups.Load(), 10)))
}

// lookupsAt returns the count of each replica.
func (e *env) lookupsAt(t testing.TB) []int64 {
	t.Helper()
	out := make([]int64, len(e.urls))
	for i, u := range e.urls {
		resp, err := httpClient.Get(u + "/revocation-lookups")
		must(t, err)
		b, err := io.ReadAll(io.LimitReader(resp.Body, 32))
		resp.Body.Close()
		must(t, err)
		if out[i], err = strconv.ParseInt(string(b), 10, 64); err != nil {
			t.Fatalf("replica %d: lookups %q", i, b)
		}
	}
	return out
}
