package mongo

import (
	"context"
	"fmt"

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
	// EmailKey is a user's storage.EmailKey, which UsersByEmail matches.
	EmailKey string `bson:"email_key,omitempty"`
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
	d := &doc[T]{ID: c.s.id(key), Tenant: c.s.tenant, Rec: *rec}
	if u, ok := any(rec).(*storage.User); ok {
		d.EmailKey = storage.EmailKey(u.Email)
	}
	return d, nil
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

// List implements storage.Collection: a range of ids from the cursor,
// which the _id index serves, sorted and limited; then the update claims
// of the page's records (see page).
func (c collection[T, PT]) List(ctx context.Context, q storage.ListQuery) (storage.Page[T], error) {
	return c.page(ctx, q, nil, nil)
}

// page serves a range of keys among the tenant's documents that also match
// filter (nil for all), sorted by id and limited to the page. It then
// follows the update claims of the page's records only (followPage); keep,
// when set, drops a record that a claim moved out of the filter.
func (c collection[T, PT]) page(ctx context.Context, q storage.ListQuery, filter bson.M, keep func(*T) bool) (storage.Page[T], error) {
	r, err := q.Parse()
	if err != nil {
		return storage.Page[T]{}, err
	}
	ctx, cancel, err := c.s.ctx(ctx)
	if err != nil {
		return storage.Page[T]{}, err
	}
	defer cancel()
	lo := c.s.id(r.Prefix)
	hi, _ := storage.PrefixEnd(lo) // lo ends with KeySep: there is an end
	ids := bson.M{"$gte": lo, "$lt": hi}
	if r.After != "" {
		ids = bson.M{"$gt": c.s.id(r.After), "$lt": hi}
	}
	f := bson.M{"tenant": c.s.tenant, "_id": ids}
	for k, v := range filter {
		f[k] = v
	}
	cur, err := c.c.Find(ctx, f, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(r.Limit)+1))
	if err != nil {
		return storage.Page[T]{}, mapErr(err)
	}
	defer cur.Close(ctx)
	var recs []*T
	for cur.Next(ctx) {
		var d doc[T]
		if err := cur.Decode(&d); err != nil {
			return storage.Page[T]{}, corrupt(c.c)
		}
		fix(&d.Rec)
		rec := d.Rec
		recs = append(recs, &rec)
	}
	if err := cur.Err(); err != nil {
		return storage.Page[T]{}, mapErr(err)
	}
	page := storage.NewPage[T, PT](recs, r)
	if err := c.followPage(ctx, page.Items); err != nil {
		return storage.Page[T]{}, err
	}
	if keep != nil {
		kept := page.Items[:0]
		for _, rec := range page.Items {
			if keep(rec) {
				kept = append(kept, rec)
			}
		}
		page.Items = kept
	}
	return page, nil
}

// followPage brings the records of a page to their newest revisions: it
// reads the claims on the revisions the documents hold, by id, and again
// from the revisions those claims wrote, until none is found. A page whose
// documents are all current costs one query that finds nothing.
func (c collection[T, PT]) followPage(ctx context.Context, recs []*T) error {
	at := make(map[string]int, len(recs)) // claim id -> record awaiting it
	for i, rec := range recs {
		at[c.claimID(PT(rec).Key(), PT(rec).Rev())] = i
	}
	for hops := 0; len(at) > 0; hops++ {
		if hops > maxClaimHops {
			return fmt.Errorf("%w: mongodb collection %s: claim chain too long", storage.ErrCorrupt, c.c.Name())
		}
		ids := make(bson.A, 0, len(at))
		for id := range at {
			ids = append(ids, id)
		}
		cur, err := c.s.c.claims.Find(ctx, bson.M{"_id": bson.M{"$in": ids}})
		if err != nil {
			return mapErr(err)
		}
		next := map[string]int{}
		for cur.Next(ctx) {
			cl := new(revClaim[T])
			if err := cur.Decode(cl); err != nil {
				cur.Close(ctx)
				return corrupt(c.s.c.claims)
			}
			i, ok := at[cl.ID]
			if !ok {
				continue
			}
			fix(&cl.Next)
			rec := cl.Next
			recs[i] = &rec
			next[c.claimID(PT(&rec).Key(), PT(&rec).Rev())] = i
		}
		err = cur.Err()
		cur.Close(ctx)
		if err != nil {
			return mapErr(err)
		}
		at = next
	}
	return nil
}

// maxClaimHops bounds the claims followPage follows from one document: each
// is an update whose document write failed, so a long chain is damage.
const maxClaimHops = 1000

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

// optional turns ErrNotFound into a nil record.
func optional[T any](rec *T, err error) (*T, error) {
	if err == storage.ErrNotFound {
		return nil, nil
	}
	return rec, err
}
