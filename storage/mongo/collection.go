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

// Create implements storage.Collection: InsertOne.
func (c collection[T, PT]) Create(ctx context.Context, rec *T) error {
	d, err := c.doc(rec)
	if err != nil {
		return err
	}
	ctx, cancel, err := c.s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	_, err = c.c.InsertOne(ctx, d)
	return mapErr(err)
}

// Put implements storage.Collection: ReplaceOne with upsert.
func (c collection[T, PT]) Put(ctx context.Context, rec *T) error {
	return c.replace(ctx, rec, true)
}

// Update implements storage.Collection: ReplaceOne, checking the match.
func (c collection[T, PT]) Update(ctx context.Context, rec *T) error {
	return c.replace(ctx, rec, false)
}

func (c collection[T, PT]) replace(ctx context.Context, rec *T, upsert bool) error {
	d, err := c.doc(rec)
	if err != nil {
		return err
	}
	ctx, cancel, err := c.s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	res, err := c.c.ReplaceOne(ctx, bson.M{"_id": d.ID}, d, options.Replace().SetUpsert(upsert))
	if err != nil {
		return mapErr(err)
	}
	if res.MatchedCount == 0 && res.UpsertedCount == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// Get implements storage.Collection: FindOne.
func (c collection[T, PT]) Get(ctx context.Context, key string) (*T, error) {
	ctx, cancel, err := c.s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var d doc[T]
	if err := c.s.findOne(ctx, c.c, bson.M{"_id": c.s.id(key)}, &d); err != nil {
		return nil, err
	}
	fix(&d.Rec)
	return &d.Rec, nil
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
	return nil
}

// List implements storage.Collection: an anchored prefix match on the id,
// which the _id index serves, sorted by id.
func (c collection[T, PT]) List(ctx context.Context, prefix string) ([]*T, error) {
	ctx, cancel, err := c.s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
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
