package redis

import (
	"context"
	"net/url"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/storage"
)

// dropBatch is the COUNT of each SCAN of DropTenant, and so the most keys
// one pipeline of UNLINKs carries.
const dropBatch = 256

// Tenants implements storage.Tenancy, under the tag of the view's tenant.
func (s *Store) Tenants() storage.Collection[storage.Tenant] {
	return collection[storage.Tenant, *storage.Tenant]{s, "tenant", nil}
}

// DropTenant implements storage.Tenancy. Every key of a tenant starts with
// its directory tag {prefix:tenant} or with a per-record tag
// {prefix:tenant:…} (the tenant id is query-escaped, so no other tenant's
// keys start so). It walks them with SCAN MATCH in batches of dropBatch,
// never KEYS, and UNLINKs each batch in one pipeline of single-key
// commands (the keys of one batch may hash to different slots). On Redis
// Cluster every master is scanned, on a Ring every shard.
func (s *Store) DropTenant(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if id == "" {
		return storage.ErrInvalid
	}
	base := "{" + globEscape(s.opts.Prefix+":"+escapeTenant(id))
	patterns := []string{base + "}*", base + ":*"}
	drop := func(ctx context.Context, node goredis.UniversalClient) error {
		for _, p := range patterns {
			if err := s.dropMatching(ctx, node, p); err != nil {
				return err
			}
		}
		return nil
	}
	switch c := s.rdb.(type) {
	case *goredis.ClusterClient:
		return c.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error { return drop(ctx, node) })
	case *goredis.Ring:
		return c.ForEachShard(ctx, func(ctx context.Context, shard *goredis.Client) error { return drop(ctx, shard) })
	}
	return drop(ctx, s.rdb)
}

// dropMatching unlinks the keys of one node that match pattern, one SCAN
// page at a time. Each call of SCAN and each pipeline gets the store's
// timeout afresh, so a large tenant is not bounded by one operation's.
func (s *Store) dropMatching(ctx context.Context, node goredis.UniversalClient, pattern string) error {
	var cursor uint64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		opCtx, cancel := s.ctx(ctx)
		keys, next, err := node.Scan(opCtx, cursor, pattern, dropBatch).Result()
		if err == nil && len(keys) > 0 {
			pipe := node.Pipeline()
			for _, k := range keys {
				pipe.Unlink(opCtx, k)
			}
			_, err = pipe.Exec(opCtx)
		}
		cancel()
		if err != nil {
			return unavailable(err)
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// escapeTenant is the form of a tenant id in keys (newStore).
func escapeTenant(id string) string { return url.QueryEscape(id) }

// globEscape escapes the characters special to Redis glob patterns.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
