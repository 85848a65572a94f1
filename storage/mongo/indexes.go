package mongo

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/bson"
	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// EnsureIndexes creates the store's indexes; it is idempotent. Uniqueness
// comes from the document ids (tenant and key), which MongoDB indexes
// itself; the tenant index serves listings and the lookup indexes
// (lookups.go) the directory's lookups; TTL indexes on expires_at let
// the server delete expired short-lived records where it supports them
// (FerretDB does not: there the store still filters expired records on every
// read, and Purge deletes them). It reports whether TTL indexes are in place.
func (s *Store) EnsureIndexes(ctx context.Context) (ttl bool, err error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return false, err
	}
	defer cancel()
	for _, c := range []*mongodriver.Collection{s.c.apis, s.c.clients, s.c.grants, s.c.users, s.c.roles, s.c.groups, s.c.consents, s.c.keys, s.c.tenants, s.c.audit} {
		if _, err := c.Indexes().CreateOne(ctx, mongodriver.IndexModel{Keys: bson.D{{Key: "tenant", Value: 1}, {Key: "_id", Value: 1}}}); err != nil {
			return false, mapErr(err)
		}
	}
	if err := s.ensureSessionIndexes(ctx); err != nil {
		return false, err
	}
	if err := s.ensureFamilySubjectIndex(ctx); err != nil {
		return false, err
	}
	if err := s.ensureLookupIndexes(ctx); err != nil {
		return false, err
	}
	if err := s.ensureRevokedAtIndexes(ctx); err != nil {
		return false, err
	}
	ttl = true
	for _, c := range s.shortLived() {
		_, err := c.Indexes().CreateOne(ctx, mongodriver.IndexModel{
			Keys:    bson.D{{Key: "expires_at", Value: 1}},
			Options: options.Index().SetExpireAfterSeconds(0),
		})
		switch {
		case ttlUnsupported(err):
			// The server has no TTL indexes: keep a plain index for the
			// expiry filters and Purge.
			ttl = false
			if _, err := c.Indexes().CreateOne(ctx, mongodriver.IndexModel{Keys: bson.D{{Key: "expires_at", Value: 1}}}); err != nil {
				return false, mapErr(err)
			}
		case err != nil:
			return false, mapErr(err)
		}
	}
	return ttl, nil
}

// codeNotImplemented is the server error code of a feature the server lacks
// (FerretDB answers it to expireAfterSeconds).
const codeNotImplemented = 238

// ttlUnsupported reports whether creating a TTL index failed because the
// server has no TTL indexes. Any other error (authorization, a conflicting
// index, a network failure) is not that, and EnsureIndexes returns it.
func ttlUnsupported(err error) bool {
	var ce mongodriver.CommandError
	return errors.As(err, &ce) && (ce.Code == codeNotImplemented || ce.Name == "NotImplemented")
}

func (s *Store) shortLived() []*mongodriver.Collection {
	return []*mongodriver.Collection{s.c.requests, s.c.codes, s.c.families, s.c.revocations, s.c.claims, s.c.audit, s.c.devices, s.c.sessions, s.c.sessionClients}
}

// Purge deletes the short-lived records of every tenant expired on the
// store's clock and returns how many it deleted. Servers with TTL indexes do this themselves; run it
// periodically on those without.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	var n int64
	for _, c := range s.shortLived() {
		res, err := c.DeleteMany(ctx, bson.M{"expires_at": bson.M{"$lte": s.now()}})
		if err != nil {
			return n, mapErr(err)
		}
		n += res.DeletedCount
	}
	return n, nil
}
