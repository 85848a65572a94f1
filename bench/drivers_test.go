package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/event"
	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/scopekit/scopekit/integration/mongoserver"
	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage"
	smongo "github.com/scopekit/scopekit/storage/mongo"
	sredis "github.com/scopekit/scopekit/storage/redis"
)

// backends are a redis-server process and an embedded FerretDB (MongoDB
// wire protocol), each with a counter of the requests the driver sends, so
// that a benchmark reports its round trips per operation.
type backends struct {
	rdb              *goredis.Client
	mdb              *mongodriver.Client
	redisRT, mongoRT atomic.Int64
	n                int
}

// countHook counts each command or pipeline the Redis client sends: one
// network round trip each.
type countHook struct{ n *atomic.Int64 }

// DialHook passes dialling through.
func (h countHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

// ProcessHook counts one round trip per command.
func (h countHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}

// ProcessPipelineHook counts one round trip per pipeline or transaction.
func (h countHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// startBackends starts both servers for the benchmark or test tb; they
// stop when it ends. A server that cannot start fails tb with its cause.
func startBackends(tb testing.TB) *backends {
	bk := &backends{}
	r := testserver.StartRedis(tb)
	bk.rdb = r.Client()
	bk.rdb.AddHook(countHook{&bk.redisRT})
	m := mongoserver.StartMongo(tb)
	mon := &event.CommandMonitor{Started: func(context.Context, *event.CommandStartedEvent) { bk.mongoRT.Add(1) }}
	c, err := mongodriver.Connect(context.Background(), options.Client().ApplyURI(m.URI).SetMonitor(mon).
		SetServerSelectionTimeout(5*time.Second))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	bk.mdb = c
	return bk
}

// store returns a fresh, empty store of driver ("redis" or "mongo") on its
// server, under a key prefix or database of its own.
func (bk *backends) store(tb testing.TB, driver string) storage.Store {
	ctx := context.Background()
	bk.n++
	name := fmt.Sprintf("bench%d", bk.n)
	switch driver {
	case "redis":
		s, err := sredis.New(bk.rdb, &sredis.Options{Prefix: name})
		if err != nil {
			tb.Fatal(err)
		}
		return s
	case "mongo":
		s, err := smongo.New(bk.mdb.Database(name), nil)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := s.EnsureIndexes(ctx); err != nil {
			tb.Fatal(err)
		}
		return s
	}
	tb.Fatalf("unknown driver %q", driver)
	return nil
}

// counter is the round-trip counter of driver.
func (bk *backends) counter(driver string) *atomic.Int64 {
	if driver == "redis" {
		return &bk.redisRT
	}
	return &bk.mongoRT
}

// drivers are the networked storage drivers measured beside the memory one.
var drivers = []string{"redis", "mongo"}

// reportRoundTrips runs op under b.Loop and reports the driver's round trips
// per operation as the "roundtrips/op" metric.
func (bk *backends) reportRoundTrips(b *testing.B, driver string, op func() error) {
	c := bk.counter(driver)
	b.ReportAllocs()
	start := c.Load()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Load()-start)/float64(b.N), "roundtrips/op")
}
