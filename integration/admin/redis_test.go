package admin_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/redis"
)

var prefixes atomic.Int64

func TestRedis(t *testing.T) {
	r := testserver.StartRedis(t)
	runSuite(t, func(t *testing.T) storage.Store {
		s, err := redis.New(r.Client(), &redis.Options{Prefix: fmt.Sprintf("rest%d", prefixes.Add(1))})
		must(t, err)
		return s
	})
}
