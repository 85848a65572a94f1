package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/scopekit/scopekit/storage"
)

// maxUsedTokens bounds the rotated refresh tokens a family keeps for reuse
// detection; a token rotated more rotations ago than this is simply unknown
// (invalid_grant without revoking the family).
const maxUsedTokens = 64

type requestDoc struct {
	ID     string `bson:"_id"`
	Tenant string `bson:"tenant"`

	storage.AuthRequest `bson:",inline"`
}

type codeDoc struct {
	ID     string `bson:"_id"`
	Tenant string `bson:"tenant"`

	storage.AuthCode `bson:",inline"`
}

// familyDoc keeps the family, its current refresh token and the tokens it
// rotated out, in one document, so that rotation is one atomic update.
type familyDoc struct {
	ID      string                          `bson:"_id"`
	Tenant  string                          `bson:"tenant"`
	Current *storage.RefreshToken           `bson:"current,omitempty"`
	Used    map[string]storage.RefreshToken `bson:"used,omitempty"`

	storage.Family `bson:",inline"`
}

type revocationDoc struct {
	ID        string    `bson:"_id"`
	Tenant    string    `bson:"tenant"`
	ExpiresAt time.Time `bson:"expires_at"`
}

// claimDoc records that a single-use record was used. Its unique id makes
// the first insert win.
type claimDoc struct {
	ID        string    `bson:"_id"`
	Tenant    string    `bson:"tenant"`
	ExpiresAt time.Time `bson:"expires_at"`
}

// claim inserts the use of a single-use record; false means another caller
// used it first. An expired claim left by a server without TTL indexes
// belongs to an expired record and never blocks a live one, as ids are
// random hashes.
func (s *Store) claim(ctx context.Context, kind, key string, exp time.Time) (bool, error) {
	_, err := s.c.claims.InsertOne(ctx, &claimDoc{ID: s.id(kind + storage.KeySep + key), Tenant: s.tenant, ExpiresAt: exp})
	if mongodriver.IsDuplicateKeyError(err) {
		return false, nil
	}
	return err == nil, mapErr(err)
}

// live is the filter part selecting unexpired documents.
func live(now time.Time) bson.M { return bson.M{"$gt": now} }

// insertFresh inserts a short-lived document; when its id is taken by an
// expired document the server has not purged, it replaces that one.
func (s *Store) insertFresh(ctx context.Context, c *mongodriver.Collection, id string, d any) error {
	_, err := c.InsertOne(ctx, d)
	if !mongodriver.IsDuplicateKeyError(err) {
		return mapErr(err)
	}
	res, err := c.ReplaceOne(ctx, bson.M{"_id": id, "expires_at": bson.M{"$lte": time.Now()}}, d)
	if err != nil {
		return mapErr(err)
	}
	if res.MatchedCount == 0 {
		return storage.ErrDuplicate
	}
	return nil
}

// CreateAuthRequest implements storage.AuthRequests.
func (s *Store) CreateAuthRequest(ctx context.Context, r *storage.AuthRequest) error {
	if r.ID == "" || r.ExpiresAt.IsZero() {
		return storage.ErrInvalid
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	id := s.id(r.ID)
	return s.insertFresh(ctx, s.c.requests, id, &requestDoc{ID: id, Tenant: s.tenant, AuthRequest: *r})
}

// GetAuthRequest implements storage.AuthRequests.
func (s *Store) GetAuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var d requestDoc
	err = s.c.requests.FindOne(ctx, bson.M{"_id": s.id(id), "expires_at": live(time.Now())}).Decode(&d)
	if err != nil {
		return nil, mapErr(err)
	}
	return &d.AuthRequest, nil
}

// TakeAuthRequest implements storage.AuthRequests: the caller whose claim
// is inserted first takes the request and deletes it.
func (s *Store) TakeAuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	r, err := s.GetAuthRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	won, err := s.claim(ctx, "ar", id, r.ExpiresAt)
	if err != nil {
		return nil, err
	}
	if !won {
		return nil, storage.ErrNotFound
	}
	if _, err := s.c.requests.DeleteOne(ctx, bson.M{"_id": s.id(id)}); err != nil {
		return nil, mapErr(err)
	}
	return r, nil
}

// CreateCode implements storage.Codes.
func (s *Store) CreateCode(ctx context.Context, c *storage.AuthCode) error {
	if c.Hash == "" || c.ExpiresAt.IsZero() {
		return storage.ErrInvalid
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	id := s.id(c.Hash)
	return s.insertFresh(ctx, s.c.codes, id, &codeDoc{ID: id, Tenant: s.tenant, AuthCode: *c})
}

// ConsumeCode implements storage.Codes: the caller whose claim is inserted
// first consumes the code; the others get it with ErrAlreadyUsed.
func (s *Store) ConsumeCode(ctx context.Context, hash string) (*storage.AuthCode, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var d codeDoc
	if err := s.c.codes.FindOne(ctx, bson.M{"_id": s.id(hash), "expires_at": live(time.Now())}).Decode(&d); err != nil {
		return nil, mapErr(err)
	}
	fix(&d.AuthCode)
	c := &d.AuthCode
	c.Used = true
	won, err := s.claim(ctx, "code", hash, c.ExpiresAt)
	if err != nil {
		return nil, err
	}
	if !won {
		return c, storage.ErrAlreadyUsed
	}
	// The flag is for readers of the collection; the claim decides.
	if _, err := s.c.codes.UpdateOne(ctx, bson.M{"_id": s.id(hash)}, bson.M{"$set": bson.M{"used": true}}); err != nil {
		return nil, mapErr(err)
	}
	return c, nil
}

// CreateFamily implements storage.Families: one document holds the family
// and its first refresh token.
func (s *Store) CreateFamily(ctx context.Context, f *storage.Family, first *storage.RefreshToken) error {
	if f.ID == "" || f.ExpiresAt.IsZero() || first != nil && (first.Hash == "" || first.ExpiresAt.IsZero() || first.Family != f.ID) {
		return storage.ErrInvalid
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	id := s.id(f.ID)
	return s.insertFresh(ctx, s.c.families, id, &familyDoc{ID: id, Tenant: s.tenant, Family: *f, Current: first})
}

func (s *Store) family(ctx context.Context, id string) (*familyDoc, error) {
	var d familyDoc
	err := s.c.families.FindOne(ctx, bson.M{"_id": s.id(id), "expires_at": live(time.Now())}).Decode(&d)
	if err != nil {
		return nil, mapErr(err)
	}
	fix(&d.Family)
	return &d, nil
}

// GetFamily implements storage.Families.
func (s *Store) GetFamily(ctx context.Context, id string) (*storage.Family, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	d, err := s.family(ctx, id)
	if err != nil {
		return nil, err
	}
	return &d.Family, nil
}

// token finds a refresh token of a family document: the current one, or a
// rotated one (returned with Used set).
func (d *familyDoc) token(hash string, now time.Time) (*storage.RefreshToken, error) {
	if d.Revoked {
		return nil, storage.ErrRevoked
	}
	if d.Current != nil && d.Current.Hash == hash && !storage.Expired(d.Current.ExpiresAt, now) {
		return d.Current, nil
	}
	if rt, ok := d.Used[hash]; ok && !storage.Expired(rt.ExpiresAt, now) {
		rt.Used = true
		return &rt, nil
	}
	return nil, storage.ErrNotFound
}

// GetRefresh implements storage.Families.
func (s *Store) GetRefresh(ctx context.Context, family, hash string) (*storage.RefreshToken, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	d, err := s.family(ctx, family)
	if err != nil {
		return nil, err
	}
	return d.token(hash, time.Now())
}

// RotateRefresh implements storage.Families. It reads the family, claims
// the old token (of concurrent rotations exactly one claim is inserted, so
// the family never forks), then updates the family document in one write:
// next becomes current and the old token moves into the "used" map kept for
// reuse detection.
func (s *Store) RotateRefresh(ctx context.Context, family, oldHash string, next *storage.RefreshToken) (*storage.RefreshToken, error) {
	if next == nil || next.Hash == "" || next.ExpiresAt.IsZero() || next.Family != family {
		return nil, storage.ErrInvalid
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	now := time.Now()
	d, err := s.family(ctx, family)
	if err != nil {
		return nil, err
	}
	old, err := d.token(oldHash, now)
	if err != nil {
		return nil, err
	}
	if old.Used {
		return old, storage.ErrAlreadyUsed
	}
	won, err := s.claim(ctx, "rt", family+storage.KeySep+oldHash, old.ExpiresAt)
	if err != nil {
		return nil, err
	}
	old.Used = true
	if !won {
		return old, storage.ErrAlreadyUsed
	}
	update := bson.M{"$set": bson.M{"current": next, "used." + oldHash: old}}
	if len(d.Used) >= maxUsedTokens {
		update["$unset"] = bson.M{"used." + oldestUsed(d.Used): ""}
	}
	filter := bson.M{"_id": s.id(family), "expires_at": live(now), "revoked": bson.M{"$ne": true}, "current.hash": oldHash}
	res, err := s.c.families.UpdateOne(ctx, filter, update)
	if err != nil {
		return nil, mapErr(err)
	}
	if res.MatchedCount == 0 {
		// The family was revoked or expired since the read: next is not
		// stored, and the old token stays used.
		return nil, storage.ErrRevoked
	}
	return old, nil
}

// oldestUsed returns the hash of the earliest-issued rotated token.
func oldestUsed(used map[string]storage.RefreshToken) string {
	var key string
	var at time.Time
	for k, rt := range used {
		if key == "" || rt.IssuedAt.Before(at) || rt.IssuedAt.Equal(at) && k < key {
			key, at = k, rt.IssuedAt
		}
	}
	return key
}

// RevokeFamily implements storage.Families: a conditional update.
func (s *Store) RevokeFamily(ctx context.Context, id string) error {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	res, err := s.c.families.UpdateOne(ctx, bson.M{"_id": s.id(id), "expires_at": live(time.Now())}, bson.M{"$set": bson.M{"revoked": true}})
	if err != nil {
		return mapErr(err)
	}
	if res.MatchedCount == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (s *Store) revocationID(family, jti string) string { return s.id(family + storage.KeySep + jti) }

// RevokeToken implements storage.Revocations: an upsert keeping the later
// expiry.
func (s *Store) RevokeToken(ctx context.Context, r *storage.Revocation) error {
	if r.JTI == "" || r.ExpiresAt.IsZero() {
		return storage.ErrInvalid
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	id := s.revocationID(r.Family, r.JTI)
	update := bson.M{"$set": bson.M{"tenant": s.tenant}, "$max": bson.M{"expires_at": r.ExpiresAt}}
	_, err = s.c.revocations.UpdateOne(ctx, bson.M{"_id": id}, update, options.Update().SetUpsert(true))
	if mongodriver.IsDuplicateKeyError(err) {
		// A concurrent revocation inserted it first: update that one.
		_, err = s.c.revocations.UpdateOne(ctx, bson.M{"_id": id}, update)
	}
	return mapErr(err)
}

// TokenRevoked implements storage.Revocations: the jti's revocation, then
// the family's flag.
func (s *Store) TokenRevoked(ctx context.Context, family, jti string) (bool, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return false, err
	}
	defer cancel()
	now := time.Now()
	n, err := s.c.revocations.CountDocuments(ctx, bson.M{"_id": s.revocationID(family, jti), "expires_at": live(now)}, options.Count().SetLimit(1))
	if err != nil {
		return false, mapErr(err)
	}
	if n > 0 || family == "" {
		return n > 0, nil
	}
	n, err = s.c.families.CountDocuments(ctx, bson.M{"_id": s.id(family), "expires_at": live(now), "revoked": true}, options.Count().SetLimit(1))
	if err != nil {
		return false, mapErr(err)
	}
	return n > 0, nil
}
