package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/bson"
	mongodriver "go.mongodb.org/mongo-driver/mongo"

	"github.com/scopekit/scopekit/storage"
)

// Tenants implements storage.Tenancy: the collection "tenants", scoped to
// the view's tenant like every directory collection.
func (s *Store) Tenants() storage.Collection[storage.Tenant] {
	return collection[storage.Tenant, *storage.Tenant]{s, s.c.tenants}
}

// DropTenant implements storage.Tenancy: one DeleteMany per collection, of
// the documents whose tenant field is the tenant's or whose id starts with
// the tenant's escaped id and storage.KeySep (every document id does, and
// no other tenant's can: the escaped form never holds KeySep). Both legs
// are served by indexes (the tenant index and the _id index).
func (s *Store) DropTenant(ctx context.Context, id string) error {
	if id == "" {
		return storage.ErrInvalid
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	t := escapeTenant(id)
	// KeySep is "\x1f"; "\x20" is the next byte, so the range holds exactly
	// the ids that start with t + KeySep.
	filter := bson.M{"$or": bson.A{
		bson.M{"tenant": t},
		bson.M{"_id": bson.M{"$gte": t + storage.KeySep, "$lt": t + "\x20"}},
	}}
	for _, c := range s.all() {
		if _, err := c.DeleteMany(ctx, filter); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// all lists every collection of the store.
func (s *Store) all() []*mongodriver.Collection {
	c := s.c
	return []*mongodriver.Collection{c.apis, c.clients, c.grants, c.users, c.roles, c.groups, c.consents, c.keys, c.tenants,
		c.requests, c.codes, c.families, c.revocations, c.claims, c.audit, c.devices}
}
