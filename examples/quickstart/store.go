package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/mongo/driver/connstring"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
	smongo "github.com/scopekit/scopekit/storage/mongo"
	sredis "github.com/scopekit/scopekit/storage/redis"
)

// storeHelp documents -store (and SCOPEKIT_STORE).
const storeHelp = `where clients, secrets and signing keys are kept:
  memory                          (default) nothing survives a restart
  redis://[:password@]host:port/db, rediss://... (TLS)
  redis+cluster://h1:p1,h2:p2     Redis Cluster (rediss+cluster:// for TLS)
  mongodb://host/database, mongodb+srv://host/database`

// storeTimeout bounds the start-up checks of a store.
const storeTimeout = 10 * time.Second

// openStore opens the store a -store value names, checked once (Redis:
// eviction policy; MongoDB: indexes). The returned function closes its
// connections.
func openStore(ctx context.Context, spec string) (storage.Store, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	scheme, _, _ := strings.Cut(spec, "://")
	switch scheme {
	case "", "memory":
		if spec != "" && spec != "memory" {
			return nil, nil, fmt.Errorf("-store %q: want memory, redis://, rediss://, redis+cluster://, mongodb:// or mongodb+srv://", spec)
		}
		return memory.New(), func() {}, nil
	case "redis", "rediss":
		opts, err := goredis.ParseURL(spec)
		if err != nil {
			return nil, nil, fmt.Errorf("-store: %w", err)
		}
		opts.ContextTimeoutEnabled = true
		return redisStore(ctx, goredis.NewClient(opts))
	case "redis+cluster", "rediss+cluster":
		u, err := clusterURL(spec)
		if err != nil {
			return nil, nil, err
		}
		opts, err := goredis.ParseClusterURL(u)
		if err != nil {
			return nil, nil, fmt.Errorf("-store: %w", err)
		}
		opts.ContextTimeoutEnabled = true
		return redisStore(ctx, goredis.NewClusterClient(opts))
	case "mongodb", "mongodb+srv":
		return mongoStore(ctx, spec)
	}
	return nil, nil, fmt.Errorf("-store %q: unknown scheme %q", redact(spec), scheme)
}

// clusterURL turns redis+cluster://h1:p1,h2:p2?opts into the form
// go-redis's ParseClusterURL reads: redis://h1:p1?opts&addr=h2:p2.
func clusterURL(spec string) (string, error) {
	scheme, rest, _ := strings.Cut(spec, "://")
	hosts, query, _ := strings.Cut(rest, "?")
	if i := strings.IndexByte(hosts, '/'); i >= 0 {
		return "", fmt.Errorf("-store: a Redis Cluster has no database number (%q)", hosts[i:])
	}
	userinfo := ""
	if i := strings.LastIndexByte(hosts, '@'); i >= 0 {
		userinfo, hosts = hosts[:i+1], hosts[i+1:]
	}
	addrs := strings.Split(hosts, ",")
	if addrs[0] == "" {
		return "", errors.New("-store: redis+cluster:// needs at least one host:port")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("-store: %w", err)
	}
	for _, a := range addrs[1:] {
		if a == "" {
			return "", errors.New("-store: an empty host in the cluster's list")
		}
		q.Add("addr", a)
	}
	u := strings.TrimSuffix(scheme, "+cluster") + "://" + userinfo + addrs[0]
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u, nil
}

func redisStore(ctx context.Context, rdb goredis.UniversalClient) (storage.Store, func(), error) {
	store, err := sredis.New(rdb, &sredis.Options{Prefix: "quickstart"})
	if err == nil {
		err = store.CheckConfig(ctx) // refuses an eviction policy that drops revocations
	}
	if err != nil {
		_ = rdb.Close()
		return nil, nil, fmt.Errorf("-store: %w", err)
	}
	return store, func() { _ = rdb.Close() }, nil
}

func mongoStore(ctx context.Context, spec string) (storage.Store, func(), error) {
	cs, err := connstring.ParseAndValidate(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("-store: %w", err)
	}
	if cs.Database == "" {
		return nil, nil, errors.New("-store: name the database in the URL's path, e.g. mongodb://host/scopekit")
	}
	client, err := mongodriver.Connect(ctx, options.Client().ApplyURI(spec))
	if err != nil {
		return nil, nil, fmt.Errorf("-store: %w", err)
	}
	closeFn := func() { _ = client.Disconnect(context.Background()) }
	store, err := smongo.New(client.Database(cs.Database), nil)
	if err == nil {
		_, err = store.EnsureIndexes(ctx)
	}
	if err != nil {
		closeFn()
		return nil, nil, fmt.Errorf("-store: %w", err)
	}
	return store, closeFn, nil
}

// redact drops the password of a store URL for messages.
func redact(spec string) string {
	u, err := url.Parse(spec)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
