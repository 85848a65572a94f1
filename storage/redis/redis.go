// Package redis is the Redis storage driver, over go-redis v9. It runs on a
// single node, Sentinel and Redis Cluster alike (redis.UniversalClient).
//
// Every operation the contract calls atomic is one Lua script or one atomic
// command (GETDEL, SET NX), and the keys of one operation share a hash tag,
// so it works on Redis Cluster without CROSSSLOT errors: all long-lived
// records of a tenant share the tag {prefix:tenant} (Resolve is one MGET),
// each token family shares {prefix:tenant:fam:ID}, and each code, pending
// request and revocation is tagged by its own key. Every key that expires has
// a TTL; long-lived records have none. See docs/REDIS.md for the
// configuration a deployment needs.
package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/storage"
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// Prefix starts every key. Empty means "scopekit".
	Prefix string
	// Tenant is the tenant of the store; Store.Tenant gives views of others.
	Tenant string
	// Timeout bounds each operation when the context has no earlier
	// deadline. Zero means 2 seconds.
	Timeout time.Duration
	// Logger receives the warning about an eviction policy that could evict
	// the store's keys. Nil means slog.Default().
	Logger *slog.Logger
}

// Store is a storage.Store on Redis. The caller owns the client.
type Store struct {
	rdb     goredis.UniversalClient
	opts    Options
	dirTag  string // {prefix:tenant}
	keyBase string // prefix:tenant, inside per-record tags
	// tombstoneTTL is storage.FamilyTombstoneLifetime; tests shorten it.
	tombstoneTTL time.Duration
}

var _ storage.Store = (*Store)(nil)

// New returns a store over the client. It checks the server's eviction
// policy once and logs a warning when it could evict security state (see
// CheckConfig); an unreachable server is not an error here, so a process can
// start before its Redis.
func New(client goredis.UniversalClient, opts *Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("redis: nil client")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = "scopekit"
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		return nil, errors.New("redis: Prefix may not contain braces (they delimit hash tags)")
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := newStore(client, o)
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	if err := s.CheckConfig(ctx); err != nil && !errors.Is(err, storage.ErrUnavailable) {
		o.Logger.Warn("redis: " + err.Error())
	}
	return s, nil
}

func newStore(client goredis.UniversalClient, o Options) *Store {
	base := o.Prefix + ":" + url.QueryEscape(o.Tenant)
	return &Store{rdb: client, opts: o, dirTag: "{" + base + "}", keyBase: base, tombstoneTTL: storage.FamilyTombstoneLifetime}
}

// Tenant implements storage.Store.
func (s *Store) Tenant(id string) storage.Store {
	o := s.opts
	o.Tenant = id
	t := newStore(s.rdb, o)
	t.tombstoneTTL = s.tombstoneTTL
	return t
}

// CheckConfig reads the server's maxmemory-policy and reports an error when
// it is not noeviction: under memory pressure any other policy may evict a
// revocation or a token family, which silently weakens security. A server
// where CONFIG is disabled is not an error.
func (s *Store) CheckConfig(ctx context.Context) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := s.rdb.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		if isRedisError(err) {
			return nil // CONFIG renamed or disabled: nothing to check
		}
		return unavailable(err)
	}
	for _, policy := range res {
		if policy != "" && policy != "noeviction" {
			return fmt.Errorf("maxmemory-policy is %q: Redis may evict token families and revocations; use noeviction (docs/REDIS.md)", policy)
		}
	}
	return nil
}

// ctx applies the store's timeout when ctx has no earlier deadline.
func (s *Store) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.opts.Timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.opts.Timeout)
}

// Keys. Long-lived records: {prefix:tenant}:kind:key and the kind's index
// {prefix:tenant}:kind:idx. A family: {prefix:tenant:fam:ID}:f, its refresh
// tokens {…}:rt:HASH and its revoked jtis {…}:rev:JTI.

func (s *Store) recKey(kind, key string) string { return s.dirTag + ":" + kind + ":r:" + key }
func (s *Store) idxKey(kind string) string      { return s.dirTag + ":" + kind + ":idx" }
func (s *Store) ownTag(kind, id string) string  { return "{" + s.keyBase + ":" + kind + ":" + id + "}" }
func (s *Store) famTag(id string) string        { return s.ownTag("fam", id) }

// unavailable wraps a backend failure without its details (addresses,
// credentials) beyond the failure's kind.
func unavailable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
	}
	reason := "connection failed"
	if isRedisError(err) {
		reason = "server error"
	}
	return fmt.Errorf("%w: redis %s", storage.ErrUnavailable, reason)
}

// isRedisError reports whether the server answered with an error reply.
func isRedisError(err error) bool {
	var re goredis.Error
	return errors.As(err, &re)
}

func encode(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func decode[T any](s string) (*T, error) {
	v := new(T)
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return nil, fmt.Errorf("redis: corrupt record: %w", err)
	}
	return v, nil
}

// pxat is a PXAT argument: the expiry in Unix milliseconds.
func pxat(t time.Time) int64 { return t.UnixMilli() }
