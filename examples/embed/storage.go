package main

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
	smongo "github.com/scopekit/scopekit/storage/mongo"
	sredis "github.com/scopekit/scopekit/storage/redis"
)

// openStore is the README's "Storage" code: a store of each driver, with
// the one start-up call each needs. The addresses are placeholders.
//
// storage:start
func openStore(ctx context.Context, driver string) (storage.Store, error) {
	switch driver {
	case "redis": // single node, Sentinel or Cluster: docs/REDIS.md
		rdb := goredis.NewUniversalClient(&goredis.UniversalOptions{
			Addrs: []string{"10.0.0.5:6379"}, ContextTimeoutEnabled: true})
		store, err := sredis.New(rdb, &sredis.Options{Prefix: "auth"}) // no I/O
		if err != nil {
			return nil, err
		}
		// Refuses an eviction policy that could drop revocations and families.
		if err := store.CheckConfig(ctx); err != nil {
			return nil, err
		}
		return store, nil
	case "mongo": // standalone, replica set or sharded cluster: docs/MONGODB.md
		client, err := mongodriver.Connect(ctx, options.Client().ApplyURI("mongodb://db1,db2,db3/?replicaSet=rs0"))
		if err != nil {
			return nil, err
		}
		store, err := smongo.New(client.Database("auth"), nil) // no I/O
		if err != nil {
			return nil, err
		}
		if _, err := store.EnsureIndexes(ctx); err != nil {
			return nil, err
		}
		return store, nil
	default: // tests and a single process: nothing survives a restart
		return memory.New(), nil
	}
}

// storage:end
