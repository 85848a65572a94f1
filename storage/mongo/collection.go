package mongo

import (
	"context"
	"regexp"
	"sync"

	"go.mongodb.org/mongo-driver/bson"
	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/scopekit/scopekit/storage"
)

// doc is a long-lived record as stored: its fields inline, with the id
// (tenant and key) and the tenant.
type doc[T any] struct {
	ID     string `bson:"_id"`
	Tenant string `bson:"tenant"`
	Rec    T      `bson:",inline"`
}

// collection is a storage.Collection on one MongoDB collection.
type collection[T any, PT interface {
	*T
	storage.Record
}] struct {
	s *Store
	c *mongodriver.Collection
}

func (c collection[T, PT]) doc(rec *T) (*doc[T], error) {
	key := PT(rec).Key()
	if !storage.ValidKey(key) {
		return nil, storage.ErrInvalid
	}
	return &doc[T]{ID: c.s.id(key), Tenant: c.s.tenant, Rec: *rec}, nil
}

// Create implements storage.Collection: InsertOne at a first revision.
func (c collection[T, PT]) Create(ctx context.Context, rec *T) error {
	d, err := c.doc(rec)
	if err != nil {
		return err
	}
	rev := storage.NewRevision()
	PT(&d.Rec).SetRev(rev)
	ctx, cancel, err := c.s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	if _, err := c.c.InsertOne(ctx, d); err != nil {
		return mapErr(err)
	}
	PT(rec).SetRev(rev)
	return nil
}

// Update implements storage.Collection: a claim on the stored revision
// decides (see revision.go).
func (c collection[T, PT]) Update(ctx context.Context, rec *T) error {
	ctx, cancel, err := c.s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	return c.update(ctx, rec)
}

// Get implements storage.Collection: the document and the claims of its
// updates, read together; a document found behind its claims is brought
// forward.
func (c collection[T, PT]) Get(ctx context.Context, key string) (*T, error) {
	ctx, cancel, err := c.s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	rec, docRev, passed, err := c.current(ctx, key)
	if err != nil {
		return nil, err
	}
	if len(passed) > 0 {
		c.settle(ctx, docRev, rec, passed)
	}
	return rec, nil
}

// Delete implements storage.Collection: DeleteOne, checking the count.
func (c collection[T, PT]) Delete(ctx context.Context, key string) error {
	ctx, cancel, err := c.s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	res, err := c.c.DeleteOne(ctx, bson.M{"_id": c.s.id(key)})
	if err != nil {
		return mapErr(err)
	}
	if res.DeletedCount == 0 {
		return storage.ErrNotFound
	}
	c.forgetClaims(ctx, key)
	return nil
}

// List implements storage.Collection: an anchored prefix match on the id,
// which the _id index serves, sorted by id, and the claims of the records'
// updates, read concurrently.
func (c collection[T, PT]) List(ctx context.Context, prefix string) ([]*T, error) {
	ctx, cancel, err := c.s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var claims map[string]map[int64]*revClaim[T]
	var cerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		claims, cerr = c.claimsOf(ctx, prefix)
	}()
	out, err := c.list(ctx, prefix)
	<-done
	if err != nil {
		return nil, err
	}
	if cerr != nil {
		return nil, cerr
	}
	for i, rec := range out {
		out[i], _ = follow[T, PT](rec, claims[PT(rec).Key()])
	}
	return out, nil
}

// list reads the documents of the records whose key starts with prefix.
func (c collection[T, PT]) list(ctx context.Context, prefix string) ([]*T, error) {
	filter := bson.M{"_id": bson.M{"$regex": "^" + regexp.QuoteMeta(c.s.id(prefix))}, "tenant": c.s.tenant}
	cur, err := c.c.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, mapErr(err)
	}
	defer cur.Close(ctx)
	out := []*T{}
	for cur.Next(ctx) {
		var d doc[T]
		if err := cur.Decode(&d); err != nil {
			return nil, corrupt(c.c)
		}
		fix(&d.Rec)
		rec := d.Rec
		out = append(out, &rec)
	}
	return out, mapErr(cur.Err())
}

// APIs implements storage.Directory.
func (s *Store) APIs() storage.Collection[storage.API] {
	return collection[storage.API, *storage.API]{s, s.c.apis}
}

// Clients implements storage.Directory.
func (s *Store) Clients() storage.Collection[storage.Client] {
	return collection[storage.Client, *storage.Client]{s, s.c.clients}
}

// ClientGrants implements storage.Directory.
func (s *Store) ClientGrants() storage.Collection[storage.ClientGrant] {
	return collection[storage.ClientGrant, *storage.ClientGrant]{s, s.c.grants}
}

// Users implements storage.Directory.
func (s *Store) Users() storage.Collection[storage.User] {
	return collection[storage.User, *storage.User]{s, s.c.users}
}

// Roles implements storage.Directory.
func (s *Store) Roles() storage.Collection[storage.Role] {
	return collection[storage.Role, *storage.Role]{s, s.c.roles}
}

// Groups implements storage.Directory.
func (s *Store) Groups() storage.Collection[storage.Group] {
	return collection[storage.Group, *storage.Group]{s, s.c.groups}
}

// Consents implements storage.Directory.
func (s *Store) Consents() storage.Collection[storage.Consent] {
	return collection[storage.Consent, *storage.Consent]{s, s.c.consents}
}

// Keys implements storage.Directory.
func (s *Store) Keys() storage.Collection[storage.SigningKey] {
	return collection[storage.SigningKey, *storage.SigningKey]{s, s.c.keys}
}

// Resolve implements storage.Directory: three FindOne reads, issued
// concurrently so that they cost one round trip of latency.
func (s *Store) Resolve(ctx context.Context, clientID, audience string) (*storage.Resolution, error) {
	res := &storage.Resolution{}
	if audience == "" {
		var err error
		res.Client, err = optional(s.Clients().Get(ctx, clientID))
		return res, err
	}
	// The three reads are independent: issued together, they cost the
	// latency of one round trip instead of three.
	var wg sync.WaitGroup
	var errs [3]error
	wg.Add(3)
	go func() {
		defer wg.Done()
		res.Client, errs[0] = optional(s.Clients().Get(ctx, clientID))
	}()
	go func() {
		defer wg.Done()
		res.API, errs[1] = optional(s.APIs().Get(ctx, audience))
	}()
	go func() {
		defer wg.Done()
		res.Grant, errs[2] = optional(s.ClientGrants().Get(ctx, storage.JoinKey(clientID, audience)))
	}()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return &storage.Resolution{}, err
		}
	}
	return res, nil
}

// optional turns ErrNotFound into a nil record.
func optional[T any](rec *T, err error) (*T, error) {
	if err == storage.ErrNotFound {
		return nil, nil
	}
	return rec, err
}
