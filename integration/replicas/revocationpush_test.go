package replicas_test

import (
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scopekit/scopekit/integration/mongoserver"
	"github.com/scopekit/scopekit/internal/testserver"
)

// refusalDeadline is the fail-safe bound of a revocation's propagation in
// the tests and the benchmark: far above the measured figures
// (docs/PERFORMANCE.md), only there so that a lost announcement fails
// instead of hanging.
const refusalDeadline = 5 * time.Second

// redisClusterEnv is three replicas over a 3-node Redis Cluster
// (append-only file fsynced on every write, so a node killed and
// restarted loses nothing it acknowledged).
func redisClusterEnv(t testing.TB) (*env, *testserver.RedisCluster) {
	rc := testserver.StartRedisCluster(t, 3, "--appendonly", "yes", "--appendfsync", "always")
	return setup(t, "redis", strings.Join(rc.Addrs, ","), ""), rc
}

// mongoEnv is three replicas over one MongoDB-wire server (FerretDB
// embedded in the test process, reached over TCP).
func mongoEnv(t testing.TB) *env {
	m := mongoserver.StartMongo(t)
	return setup(t, "mongo", m.URI, m.Database(t).Name())
}

// revokeAt revokes tok at replica i (RFC 7009).
func (e *env) revokeAt(t testing.TB, i int, tok string) {
	t.Helper()
	if a := post(httpClient, e.urls[i], "/oauth/revoke", url.Values{"token": {tok}}, "svc", e.svcSecret); a.status != 200 {
		t.Fatalf("revoke at replica %d: %d %v %v", i, a.status, a.body, a.err)
	}
}

// warmToken mints a token at replica 0 and calls every replica's API with
// it, which verifies it, looks its revocation up once and caches it.
func (e *env) warmToken(t testing.TB) string {
	t.Helper()
	tok := e.clientToken(e.urls[0]).str("access_token")
	if tok == "" {
		t.Fatal("no token")
	}
	for i, u := range e.urls {
		if s := callAPI(u, tok); s != 200 {
			t.Fatalf("replica %d answered a fresh token %d", i, s)
		}
	}
	return tok
}

// untilRefused polls replica i's API with tok until it answers 401 and
// returns when it did; it fails past refusalDeadline.
func (e *env) untilRefused(t testing.TB, i int, tok string) time.Time {
	deadline := time.Now().Add(refusalDeadline)
	for {
		s := callAPI(e.urls[i], tok)
		now := time.Now()
		if s == 401 {
			return now
		}
		if s != 200 {
			t.Errorf("replica %d answered %d while the revocation propagated", i, s)
			return now
		}
		if now.After(deadline) {
			t.Errorf("replica %d still accepts the revoked token after %v", i, refusalDeadline)
			return now
		}
	}
}

// revocationPushed: every replica cached the token (a second call asks no
// store: the pushed revocations judge it), it is revoked at one, and every
// replica refuses it within the fail-safe bound, the others than the
// revoking one with no store lookup: the announcement, published by the script that wrote the
// revocation on one shard, reached the subscribers of every replica over
// the cluster bus.
func revocationPushed(t *testing.T, e *env) {
	tok := e.warmToken(t)
	before := e.lookupsAt(t)
	for i, u := range e.urls {
		if s := callAPI(u, tok); s != 200 {
			t.Fatalf("replica %d answered a cached token %d", i, s)
		}
	}
	if after := e.lookupsAt(t); !slices.Equal(after, before) {
		t.Fatalf("revocation lookups %v before cached calls, %v after: the cached path asked the store", before, after)
	}
	e.revokeAt(t, 1, tok)
	for i := range e.urls {
		e.untilRefused(t, i, tok)
	}
	// Replica 1 forgot the token it revoked and verified it afresh; the
	// others were told.
	after := e.lookupsAt(t)
	for _, i := range []int{0, 2} {
		if after[i] != before[i] {
			t.Fatalf("replica %d made %d revocation lookups to refuse the token: it asked the store instead of being told", i, after[i]-before[i])
		}
	}
}

// propagationBackends are the backends BenchmarkRevocationPropagation
// measures.
var propagationBackends = []struct {
	name  string
	start func(testing.TB) *env
}{
	{"redis-cluster", func(t testing.TB) *env { e, _ := redisClusterEnv(t); return e }},
	{"mongo", mongoEnv},
}

// BenchmarkRevocationPropagation measures how long after a revocation is
// acknowledged at one replica the others, which cached the token, still
// accept it: per iteration a token is minted and called at every replica,
// revoked at replica 0, and replicas 1 and 2 are polled (their API, over
// loopback, as fast as they answer) until each refuses it. The figure is
// the later of the two, from the revocation's 200; p50, p99 and max are
// reported in ms.
func BenchmarkRevocationPropagation(b *testing.B) {
	for _, be := range propagationBackends {
		b.Run(be.name, func(b *testing.B) {
			e := be.start(b)
			var lags []time.Duration
			for b.Loop() {
				tok := e.warmToken(b)
				e.revokeAt(b, 0, tok)
				acked := time.Now()
				var mu sync.Mutex
				var last time.Time
				var wg sync.WaitGroup
				for i := 1; i < len(e.urls); i++ {
					wg.Go(func() {
						at := e.untilRefused(b, i, tok)
						mu.Lock()
						if at.After(last) {
							last = at
						}
						mu.Unlock()
					})
				}
				wg.Wait()
				if b.Failed() {
					b.FailNow()
				}
				lags = append(lags, last.Sub(acked))
			}
			slices.Sort(lags)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(lags[len(lags)/2]), "p50-ms")
			b.ReportMetric(ms(lags[(len(lags)*99)/100]), "p99-ms")
			b.ReportMetric(ms(lags[len(lags)-1]), "max-ms")
		})
	}
}
