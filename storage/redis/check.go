package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/storage"
)

var _ storage.Checker = (*Store)(nil)

// Check implements storage.Checker: a PING of the server, of every master
// on Redis Cluster and every shard of a Ring (a key of the tenant may live
// on any of them), within ctx or Options.Timeout. A failure wraps
// storage.ErrUnavailable without the backend's text.
func (s *Store) Check(ctx context.Context) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var err error
	switch c := s.rdb.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
			return node.Ping(ctx).Err()
		})
	case *goredis.Ring:
		err = c.ForEachShard(ctx, func(ctx context.Context, shard *goredis.Client) error {
			return shard.Ping(ctx).Err()
		})
	default:
		err = s.rdb.Ping(ctx).Err()
	}
	if err != nil {
		return unavailable(err)
	}
	return nil
}
