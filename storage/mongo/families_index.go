package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	mongodriver "go.mongodb.org/mongo-driver/mongo"

	"github.com/scopekit/scopekit/storage"
)

// familySubjectIndex serves ListFamilies: a tenant's families by subject.
var familySubjectIndex = mongodriver.IndexModel{Keys: bson.D{{Key: "tenant", Value: 1}, {Key: "sub", Value: 1}}}

// ensureFamilySubjectIndex creates familySubjectIndex; EnsureIndexes calls it.
func (s *Store) ensureFamilySubjectIndex(ctx context.Context) error {
	_, err := s.c.families.Indexes().CreateOne(ctx, familySubjectIndex)
	return mapErr(err)
}

// ListFamilies implements storage.Families: one query on the families by
// subject (an index EnsureIndexes creates), one on their revocation claims.
func (s *Store) ListFamilies(ctx context.Context, subject string) ([]*storage.Family, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	now := time.Now()
	cur, err := s.c.families.Find(ctx, bson.M{"tenant": s.tenant, "sub": subject, "expires_at": live(now)})
	if err != nil {
		return nil, mapErr(err)
	}
	var docs []familyDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err)
	}
	if len(docs) == 0 {
		return nil, nil
	}
	claimIDs := make([]string, len(docs))
	for i := range docs {
		claimIDs[i] = s.claimID(claimFamily, docs[i].Family.ID)
	}
	cur, err = s.c.claims.Find(ctx, bson.M{"_id": bson.M{"$in": claimIDs}, "expires_at": live(now)})
	if err != nil {
		return nil, mapErr(err)
	}
	var claims []claimDoc
	if err := cur.All(ctx, &claims); err != nil {
		return nil, mapErr(err)
	}
	revoked := make(map[string]bool, len(claims))
	for _, c := range claims {
		revoked[c.ID] = true
	}
	out := make([]*storage.Family, len(docs))
	for i := range docs {
		f := docs[i].Family
		f.Revoked = revoked[claimIDs[i]]
		out[i] = &f
	}
	return out, nil
}
