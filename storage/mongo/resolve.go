package mongo

import (
	"context"
	"regexp"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/scopekit/scopekit/storage"
)

// Resolve implements storage.Directory: the client, the API and the client
// grant, with the update claims of all three, in four concurrent commands
// (three finds by _id on their collections and one find of the three
// records' claims), so that a token request costs the latency of one round
// trip. A single command would need the three records in one collection,
// or $unionWith, which FerretDB 1.x does not run (docs/PERFORMANCE.md).
func (s *Store) Resolve(ctx context.Context, clientID, audience string) (*storage.Resolution, error) {
	res := &storage.Resolution{}
	if audience == "" {
		var err error
		res.Client, err = optional(s.Clients().Get(ctx, clientID))
		return res, err
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	client := &resolvePart[storage.Client, *storage.Client]{c: collection[storage.Client, *storage.Client]{s, s.c.clients}, key: clientID}
	api := &resolvePart[storage.API, *storage.API]{c: collection[storage.API, *storage.API]{s, s.c.apis}, key: audience}
	grant := &resolvePart[storage.ClientGrant, *storage.ClientGrant]{c: collection[storage.ClientGrant, *storage.ClientGrant]{s, s.c.grants},
		key: storage.JoinKey(clientID, audience)}
	parts := []resolver{client, api, grant}
	var wg sync.WaitGroup
	for _, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.read(ctx)
		}()
	}
	cerr := s.claimsOfParts(ctx, parts)
	wg.Wait()
	if cerr != nil {
		return &storage.Resolution{}, cerr
	}
	if res.Client, err = client.result(ctx); err != nil {
		return &storage.Resolution{}, err
	}
	if res.API, err = api.result(ctx); err != nil {
		return &storage.Resolution{}, err
	}
	if res.Grant, err = grant.result(ctx); err != nil {
		return &storage.Resolution{}, err
	}
	return res, nil
}

// resolver is one record of a Resolve.
type resolver interface {
	// prefix is the id prefix of the record's update claims.
	prefix() string
	// read finds the record's document.
	read(ctx context.Context)
	// take decodes a claim whose id has the record's prefix.
	take(raw bson.Raw) error
}

// resolvePart is one record of a Resolve: its document and its claims.
type resolvePart[T any, PT interface {
	*T
	storage.Record
}] struct {
	c      collection[T, PT]
	key    string
	d      doc[T]
	err    error
	claims map[int64]*revClaim[T]
}

func (r *resolvePart[T, PT]) prefix() string {
	return r.c.s.claimID(claimRevision, r.c.c.Name(), storage.JoinKey(r.key, ""))
}

func (r *resolvePart[T, PT]) read(ctx context.Context) {
	r.err = r.c.s.findOne(ctx, r.c.c, bson.M{"_id": r.c.s.id(r.key)}, &r.d)
}

func (r *resolvePart[T, PT]) take(raw bson.Raw) error {
	cl := new(revClaim[T])
	if err := bson.Unmarshal(raw, cl); err != nil {
		return corrupt(r.c.s.c.claims)
	}
	if cl.Key != r.key {
		return nil // a record whose key extends this one's
	}
	fix(&cl.Next)
	if r.claims == nil {
		r.claims = map[int64]*revClaim[T]{}
	}
	r.claims[cl.From] = cl
	return nil
}

// result is the record as of its newest revision (nil when absent), its
// document brought forward when claims were followed, as Get does.
func (r *resolvePart[T, PT]) result(ctx context.Context) (*T, error) {
	if r.err != nil {
		return optional[T](nil, r.err)
	}
	fix(&r.d.Rec)
	rec, passed := follow[T, PT](&r.d.Rec, r.claims)
	if len(passed) > 0 {
		r.c.settle(ctx, PT(&r.d.Rec).Rev(), rec, passed)
	}
	return rec, nil
}

// claimsOfParts reads the update claims of every part in one find and
// hands each to its part.
func (s *Store) claimsOfParts(ctx context.Context, parts []resolver) error {
	or := make(bson.A, len(parts))
	for i, p := range parts {
		or[i] = bson.M{"_id": bson.M{"$regex": "^" + regexp.QuoteMeta(p.prefix())}}
	}
	cur, err := s.c.claims.Find(ctx, bson.M{"$or": or})
	if err != nil {
		return mapErr(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		id, ok := cur.Current.Lookup("_id").StringValueOK()
		if !ok {
			return corrupt(s.c.claims)
		}
		for _, p := range parts {
			if strings.HasPrefix(id, p.prefix()) {
				if err := p.take(cur.Current); err != nil {
					return err
				}
				break
			}
		}
	}
	return mapErr(cur.Err())
}
