// Package redis is the storage driver for a host whose issuer keeps its
// state in Redis, over go-redis v9. It runs on a single node, Sentinel and
// Redis Cluster alike (redis.UniversalClient). New does no I/O: call
// Store.CheckConfig at start-up. A runnable example, which go test runs
// against a real redis-server, is integration/redis/example_test.go.
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
	"net"
	"os"
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
	// deadline. Zero means 2 seconds. go-redis honours it (and any context
	// deadline) only when the client was built with ContextTimeoutEnabled:
	// true; otherwise a hung server holds an operation for the client's
	// ReadTimeout, and New logs a warning (see docs/REDIS.md).
	Timeout time.Duration
	// Logger receives New's warning about a client that ignores context
	// deadlines. Nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock every expiry is judged by (Store.WithClock gives
	// views on another). Nil means time.Now. Key TTLs only collect garbage.
	Now func() time.Time
}

// Store is a storage.Store on Redis. The caller owns the client.
type Store struct {
	rdb     goredis.UniversalClient
	hub     *hub // the pub/sub connection shared by every store of one New
	opts    Options
	dirTag  string // {prefix:tenant}
	keyBase string // prefix:tenant, inside per-record tags
	// tombstoneTTL is storage.FamilyTombstoneLifetime; tests shorten it.
	tombstoneTTL time.Duration
}

var _ storage.Store = (*Store)(nil)

// New returns a store over the client. Like redis.NewClient it does no I/O,
// so a process can start before its Redis: call CheckConfig at start-up,
// with a deadline, to learn of an eviction policy that could evict security
// state. New logs a warning when the client ignores context deadlines
// (ContextTimeoutEnabled is false on a *redis.Client, *redis.ClusterClient or
// *redis.Ring), which its options alone tell.
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
	o.Now = storage.ClockOrDefault(o.Now)
	if enabled, known := contextTimeouts(client); known && !enabled {
		o.Logger.Warn("redis: the client was built without ContextTimeoutEnabled, so go-redis ignores context deadlines and Options.Timeout: " +
			"a hung Redis holds each operation for the client's ReadTimeout; set ContextTimeoutEnabled: true (docs/REDIS.md)")
	}
	return newStore(client, newHub(client, o.Timeout), o), nil
}

func newStore(client goredis.UniversalClient, h *hub, o Options) *Store {
	base := o.Prefix + ":" + escapeTenant(o.Tenant)
	return &Store{rdb: client, hub: h, opts: o, dirTag: "{" + base + "}", keyBase: base, tombstoneTTL: storage.FamilyTombstoneLifetime}
}

// Tenant implements storage.Store.
func (s *Store) Tenant(id string) storage.Store {
	o := s.opts
	o.Tenant = id
	t := newStore(s.rdb, s.hub, o)
	t.tombstoneTTL = s.tombstoneTTL
	return t
}

// WithClock implements storage.Store: a view of the same keys judging
// expiries by now.
func (s *Store) WithClock(now func() time.Time) storage.Store {
	t := *s
	t.opts.Now = storage.ClockOrDefault(now)
	return &t
}

// now is the store's clock.
func (s *Store) now() time.Time { return s.opts.Now() }

// contextTimeouts reports whether the client honours context deadlines,
// and whether its type lets the driver know.
func contextTimeouts(c goredis.UniversalClient) (enabled, known bool) {
	switch c := c.(type) {
	case *goredis.Client:
		return c.Options().ContextTimeoutEnabled, true
	case *goredis.ClusterClient:
		return c.Options().ContextTimeoutEnabled, true
	case *goredis.Ring:
		return c.Options().ContextTimeoutEnabled, true
	}
	return false, false
}

// CheckConfig reads the server's maxmemory-policy and reports an error when
// it is not noeviction: under memory pressure any other policy may evict a
// revocation or a token family, which silently weakens security. On Redis
// Cluster every master is asked, on a Ring every shard, and the error names
// the node. A server where CONFIG is disabled is not an error; one that does
// not answer within ctx (or Options.Timeout) is storage.ErrUnavailable. Call
// it once at start-up, as a go-redis user calls Ping, and log or refuse what
// it reports (docs/REDIS.md).
func (s *Store) CheckConfig(ctx context.Context) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	switch c := s.rdb.(type) {
	case *goredis.ClusterClient:
		return c.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
			return checkPolicy(ctx, node, node.Options().Addr)
		})
	case *goredis.Ring:
		return c.ForEachShard(ctx, func(ctx context.Context, shard *goredis.Client) error {
			return checkPolicy(ctx, shard, shard.Options().Addr)
		})
	}
	return checkPolicy(ctx, s.rdb, "")
}

// checkPolicy checks one server's maxmemory-policy; node names it in the
// error when there are several.
func checkPolicy(ctx context.Context, c goredis.Cmdable, node string) error {
	res, err := c.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		if isRedisError(err) {
			return nil // CONFIG renamed or disabled: nothing to check
		}
		return unavailable(err)
	}
	for _, policy := range res {
		if policy != "" && policy != "noeviction" {
			where := ""
			if node != "" {
				where = " on " + node
			}
			return fmt.Errorf("maxmemory-policy is %q%s: Redis may evict token families and revocations; use noeviction (docs/REDIS.md)", policy, where)
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

// Keys. Long-lived records: {prefix:tenant}:kind:r:key and the kind's index
// {prefix:tenant}:kind:idx; for users and groups the lookup index
// {prefix:tenant}:kind:lk and each record's members of it
// {prefix:tenant}:kind:m:key. A family: {prefix:tenant:fam:ID}:f, its refresh
// tokens {…}:rt:HASH, its revoked jtis {…}:rev:JTI and its opaque access
// tokens {…}:ot:HASH; an opaque token outside any family
// {prefix:tenant:ot:HASH}.

func (s *Store) recKey(kind, key string) string { return s.dirTag + ":" + kind + ":r:" + key }
func (s *Store) idxKey(kind string) string      { return s.dirTag + ":" + kind + ":idx" }
func (s *Store) lookupKey(kind string) string   { return s.dirTag + ":" + kind + ":lk" }
func (s *Store) membersKey(kind, key string) string {
	return s.dirTag + ":" + kind + ":m:" + key
}
func (s *Store) ownTag(kind, id string) string { return "{" + s.keyBase + ":" + kind + ":" + id + "}" }
func (s *Store) famTag(id string) string       { return s.ownTag("fam", id) }

// unavailable wraps a backend failure without its details (addresses,
// credentials, socket messages) beyond the failure's kind: the error's text
// is fixed, and of the driver's error only the context's sentinel is kept
// (errors.Is with context.Canceled or DeadlineExceeded), never the error
// itself, whose text a network error (net.OpError) fills with addresses.
func unavailable(err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w: redis call canceled: %w", storage.ErrUnavailable, context.Canceled)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: redis did not answer in time: %w", storage.ErrUnavailable, context.DeadlineExceeded)
	}
	// With ContextTimeoutEnabled, go-redis turns the context's deadline
	// into the connection's, and a hung server surfaces as a network
	// timeout.
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: redis did not answer in time: %w", storage.ErrUnavailable, context.DeadlineExceeded)
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

// encode serialises a record; a record that cannot be (a value JSON has no
// form for in a free-form claims or metadata map) is ErrInvalid.
func encode(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("%w: %T does not serialise", storage.ErrInvalid, v)
	}
	return string(b), nil
}

// decode parses a stored record; one that does not parse is ErrCorrupt,
// without the parser's message (it quotes stored data).
func decode[T any](s string) (*T, error) {
	v := new(T)
	if err := json.Unmarshal([]byte(s), v); err != nil {
		var zero T
		return nil, fmt.Errorf("%w: redis %T", storage.ErrCorrupt, zero)
	}
	return v, nil
}

// pxat is a PXAT argument: the expiry in Unix milliseconds.
func pxat(t time.Time) int64 { return t.UnixMilli() }
