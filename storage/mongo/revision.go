package mongo

import (
	"context"
	"regexp"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	mongodriver "go.mongodb.org/mongo-driver/mongo"

	"github.com/scopekit/scopekit/storage"
)

// Updates of long-lived records are decided by a claim, like the single-use
// operations (see transient.go): Update inserts a claim whose unique id names
// the record and the revision it replaces, so of concurrent updates of one
// revision exactly one is inserted. The claim holds the new record, so the
// update is complete once the claim exists. Reads take the record document
// and follow the claims from its revision to the newest one; replacing the
// document after the claim only brings it forward, and a read that had to
// follow claims brings it forward again, so a failure between the two steps
// leaves nothing half-written.
//
// A claim carries no expiry while it may be the only copy of the record's
// newest revision. Once the document has been written past it, it gets
// revisionClaimLifetime, after which the TTL index removes it: it is then
// needed only to refuse a second update of the revision it replaced, and
// every Update compares the revision it is given with the stored one before
// inserting its claim, within one operation's timeout.
const claimRevision = "rev"

// revisionClaimLifetime is how long a claim outlives the document write that
// made it redundant.
const revisionClaimLifetime = 24 * time.Hour

// revClaim is the claim of an update: the record at revision From was
// replaced by Next.
type revClaim[T any] struct {
	ID        string     `bson:"_id"`
	Tenant    string     `bson:"tenant"`
	ExpiresAt *time.Time `bson:"expires_at,omitempty"`
	Key       string     `bson:"key"`
	From      int64      `bson:"from"`
	Next      T          `bson:"next"`
}

// claimID is the id of the claim on the revision rev of the record key.
func (c collection[T, PT]) claimID(key string, rev int64) string {
	return c.s.claimID(claimRevision, c.c.Name(), key, strconv.FormatInt(rev, 10))
}

// claimsOf reads the update claims of the records whose key starts with
// prefix, by record key, then by the revision each replaced.
func (c collection[T, PT]) claimsOf(ctx context.Context, prefix string) (map[string]map[int64]*revClaim[T], error) {
	cur, err := c.s.c.claims.Find(ctx, bson.M{"_id": bson.M{"$regex": "^" + regexp.QuoteMeta(c.s.claimID(claimRevision, c.c.Name(), prefix))}})
	if err != nil {
		return nil, mapErr(err)
	}
	defer cur.Close(ctx)
	out := map[string]map[int64]*revClaim[T]{}
	for cur.Next(ctx) {
		d := new(revClaim[T])
		if err := cur.Decode(d); err != nil {
			return nil, corrupt(c.s.c.claims)
		}
		fix(&d.Next)
		if out[d.Key] == nil {
			out[d.Key] = map[int64]*revClaim[T]{}
		}
		out[d.Key][d.From] = d
	}
	return out, mapErr(cur.Err())
}

// follow walks the claims from the document's record to the newest
// revision; it returns the record and the claims it passed.
func follow[T any, PT interface {
	*T
	storage.Record
}](rec *T, claims map[int64]*revClaim[T]) (*T, []string) {
	var passed []string
	for len(passed) < len(claims) {
		cl, ok := claims[PT(rec).Rev()]
		if !ok {
			break
		}
		next := cl.Next
		rec = &next
		passed = append(passed, cl.ID)
	}
	return rec, passed
}

// current reads the record key as of its newest revision: the document and
// the claims, read concurrently so that they cost one round trip. It also
// returns the document's revision and the claims followed past it.
func (c collection[T, PT]) current(ctx context.Context, key string) (rec *T, docRev int64, passed []string, err error) {
	var claims map[string]map[int64]*revClaim[T]
	var cerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		claims, cerr = c.claimsOf(ctx, storage.JoinKey(key, ""))
	}()
	var d doc[T]
	err = c.s.findOne(ctx, c.c, bson.M{"_id": c.s.id(key)}, &d)
	<-done
	if err != nil {
		return nil, 0, nil, err
	}
	if cerr != nil {
		return nil, 0, nil, cerr
	}
	fix(&d.Rec)
	rec, passed = follow[T, PT](&d.Rec, claims[key])
	return rec, PT(&d.Rec).Rev(), passed, nil
}

// settle brings the document of rec forward from the revision docRev to
// rec's, then starts the expiry of the claims it no longer depends on. It is
// tidy-up only: on failure, reads keep following the claims.
func (c collection[T, PT]) settle(ctx context.Context, docRev int64, rec *T, passed []string) {
	d, err := c.doc(rec)
	if err != nil {
		return
	}
	filter := bson.M{"_id": d.ID, "revision": docRev}
	if docRev == 0 {
		// A document stored before records had revisions has none.
		filter["revision"] = bson.M{"$in": bson.A{0, nil}}
	}
	if _, err := c.c.ReplaceOne(ctx, filter, d); err != nil {
		return
	}
	_, _ = c.s.c.claims.UpdateMany(ctx, bson.M{"_id": bson.M{"$in": passed}, "expires_at": bson.M{"$exists": false}},
		bson.M{"$set": bson.M{"expires_at": time.Now().Add(revisionClaimLifetime)}})
}

// update implements Update: the claim on the stored revision decides.
func (c collection[T, PT]) update(ctx context.Context, rec *T) error {
	key := PT(rec).Key()
	if !storage.ValidKey(key) {
		return storage.ErrInvalid
	}
	cur, docRev, passed, err := c.current(ctx, key)
	if err != nil {
		return err
	}
	from := PT(rec).Rev()
	if PT(cur).Rev() != from {
		return storage.ErrConflict
	}
	next := *rec
	PT(&next).SetRev(storage.NewRevision())
	cl := &revClaim[T]{ID: c.claimID(key, from), Tenant: c.s.tenant, Key: key, From: from, Next: next}
	if _, err := c.s.c.claims.InsertOne(ctx, cl); err != nil {
		if mongodriver.IsDuplicateKeyError(err) {
			return storage.ErrConflict
		}
		return mapErr(err)
	}
	PT(rec).SetRev(PT(&next).Rev())
	if c.s.afterClaim(claimRevision) == nil {
		c.settle(ctx, docRev, &next, append(passed, cl.ID))
	}
	return nil
}

// forgetClaims starts the expiry of the claims of a deleted record.
func (c collection[T, PT]) forgetClaims(ctx context.Context, key string) {
	prefix := "^" + regexp.QuoteMeta(c.s.claimID(claimRevision, c.c.Name(), storage.JoinKey(key, "")))
	_, _ = c.s.c.claims.UpdateMany(ctx, bson.M{"_id": bson.M{"$regex": prefix}, "key": key, "expires_at": bson.M{"$exists": false}},
		bson.M{"$set": bson.M{"expires_at": time.Now().Add(revisionClaimLifetime)}})
}
