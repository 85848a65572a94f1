package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/scopekit/scopekit/storage"
)

// Single-use operations are decided by inserting a claim document whose id
// is unique: of concurrent callers, the server's unique _id index lets
// exactly one insert win. No update or delete decides anything, because on
// some MongoDB-wire servers (FerretDB) neither findAndModify nor the matched
// or deleted counts of a conditional update or delete are atomic. A claim
// carries everything its operation decided, so that the operation is
// complete once the claim exists: whatever write follows it only tidies up,
// and a reader never depends on that write having happened.
//
// Claim kinds (the first part of the claim's key):
//
//	ar   a taken authorization request (GetAuthRequest treats it as gone)
//	code a consumed authorization code, holding its used marker
//	     (storage.UsedCodeMarker) until storage.CodeKeptUntil, so that a
//	     replay after the code's expiry still finds its family
//	rt   a rotated refresh token, holding the old token and its successor
//	fam  a revoked token family (also a tombstone for a family not stored yet)
//	once a key used by storage.Replay.UseOnce, until its expiry
//	devd a device code's decision, devp one of its polls (a chain by
//	     sequence number), devu its taking, holding the used marker;
//	att  one attempt of CountAttempt (device.go)
//	ot   an opaque access token, holding the token until it expires, and
//	otr  its revocation (opaque.go)
const (
	claimRequest = "ar"
	claimCode    = "code"
	claimRefresh = "rt"
	claimFamily  = "fam"
	claimOnce    = "once"
)

// maxChain bounds how many rotations a read follows past the token the
// family document names as current (the rotations whose tidy-up write did
// not land).
const maxChain = 16

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

// familyDoc keeps the family and the refresh token last known current. A
// rotation is decided by its claim; the document is moved forward after.
type familyDoc struct {
	ID      string                `bson:"_id"`
	Tenant  string                `bson:"tenant"`
	Current *storage.RefreshToken `bson:"current,omitempty"`

	storage.Family `bson:",inline"`
}

// claimDoc records that a single-use record was used. For a refresh token
// it holds the token (Old) and the one that replaced it (Next).
type claimDoc struct {
	ID        string                `bson:"_id"`
	Tenant    string                `bson:"tenant"`
	ExpiresAt time.Time             `bson:"expires_at"`
	Old       *storage.RefreshToken `bson:"old,omitempty"`
	Next      *storage.RefreshToken `bson:"next,omitempty"`
	Code      *storage.AuthCode     `bson:"code,omitempty"`
	// Device is a device code's decision, poll or used marker.
	Device *storage.DeviceCode `bson:"device,omitempty"`
	// Seq numbers a device code's poll claims.
	Seq int64 `bson:"seq,omitempty"`
	// Opaque is an opaque access token.
	Opaque *storage.OpaqueToken `bson:"opaque,omitempty"`
	// Family and RevokedAt are a family revocation's: the family, and when
	// it was written (revocationwatch.go).
	Family    string    `bson:"family,omitempty"`
	RevokedAt time.Time `bson:"revoked_at,omitempty"`
}

func (s *Store) claimID(kind string, key ...string) string {
	return s.id(kind + storage.KeySep + storage.JoinKey(key...))
}

// claim inserts a claim; false means another caller claimed first. A claim
// left expired by a server without TTL indexes is replaced.
func (s *Store) claim(ctx context.Context, d *claimDoc) (bool, error) {
	d.Tenant = s.tenant
	err := s.insertFresh(ctx, s.c.claims, d.ID, d)
	if errors.Is(err, storage.ErrDuplicate) {
		return false, nil
	}
	return err == nil, err
}

// afterClaim runs between a claim and the write that tidies up after it.
// Tests set faultAfterClaim to make that write fail.
func (s *Store) afterClaim(kind string) error {
	if s.faultAfterClaim == nil {
		return nil
	}
	return s.faultAfterClaim(kind)
}

// findClaim reads a live claim; nil when there is none.
func (s *Store) findClaim(ctx context.Context, id string) (*claimDoc, error) {
	var d claimDoc
	err := s.findOne(ctx, s.c.claims, bson.M{"_id": id, "expires_at": live(s.now())}, &d)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// claimed reports whether a live claim exists.
func (s *Store) claimed(ctx context.Context, id string) (bool, error) {
	n, err := s.c.claims.CountDocuments(ctx, bson.M{"_id": id, "expires_at": live(s.now())}, options.Count().SetLimit(1))
	return n > 0, mapErr(err)
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
	res, err := c.ReplaceOne(ctx, bson.M{"_id": id, "expires_at": bson.M{"$lte": s.now()}}, d)
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

// GetAuthRequest implements storage.AuthRequests: the request, unless a
// claim says it was taken.
func (s *Store) GetAuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	r, err := s.request(ctx, id)
	if err != nil {
		return nil, err
	}
	taken, err := s.claimed(ctx, s.claimID(claimRequest, id))
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, storage.ErrNotFound
	}
	return r, nil
}

func (s *Store) request(ctx context.Context, id string) (*storage.AuthRequest, error) {
	var d requestDoc
	if err := s.findOne(ctx, s.c.requests, bson.M{"_id": s.id(id), "expires_at": live(s.now())}, &d); err != nil {
		return nil, err
	}
	return &d.AuthRequest, nil
}

// TakeAuthRequest implements storage.AuthRequests: the caller whose claim
// is inserted first takes the request. The claim alone makes the request
// gone; deleting the document after it only frees space.
func (s *Store) TakeAuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	r, err := s.request(ctx, id)
	if err != nil {
		return nil, err
	}
	won, err := s.claim(ctx, &claimDoc{ID: s.claimID(claimRequest, id), ExpiresAt: r.ExpiresAt})
	if err != nil {
		return nil, err
	}
	if !won {
		return nil, storage.ErrNotFound
	}
	if s.afterClaim(claimRequest) == nil {
		// A failure here leaves a document no read returns; it expires.
		_, _ = s.c.requests.DeleteOne(ctx, bson.M{"_id": s.id(id)})
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
// first consumes the code; the others get it with ErrAlreadyUsed. The claim
// is the only write, so a consumption is either wholly done or not at all.
func (s *Store) ConsumeCode(ctx context.Context, hash string) (*storage.AuthCode, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var d codeDoc
	err = s.findOne(ctx, s.c.codes, bson.M{"_id": s.id(hash), "expires_at": live(s.now())}, &d)
	if errors.Is(err, storage.ErrNotFound) {
		return s.usedCode(ctx, hash)
	}
	if err != nil {
		return nil, err
	}
	fix(&d.AuthCode)
	c := &d.AuthCode
	c.Used, c.UsedAt = true, s.now().UTC()
	marker := storage.UsedCodeMarker(c)
	won, err := s.claim(ctx, &claimDoc{ID: s.claimID(claimCode, hash), ExpiresAt: storage.CodeKeptUntil(c), Code: marker})
	if err != nil {
		return nil, err
	}
	if !won {
		return c, storage.ErrAlreadyUsed
	}
	if err := s.afterClaim(claimCode); err != nil {
		return nil, err
	}
	return c, nil
}

// usedCode answers ConsumeCode for a code no longer live: the used marker
// of its claim with ErrAlreadyUsed while it is retained, else ErrNotFound.
func (s *Store) usedCode(ctx context.Context, hash string) (*storage.AuthCode, error) {
	d, err := s.findClaim(ctx, s.claimID(claimCode, hash))
	if err != nil {
		return nil, err
	}
	if d == nil || d.Code == nil {
		return nil, storage.ErrNotFound
	}
	fix(d.Code)
	return d.Code, storage.ErrAlreadyUsed
}

// CreateFamily implements storage.Families: one document holds the family
// and its first refresh token. The family's revocation is looked up after
// the insert, so that a RevokeFamily racing with it is seen by one side or
// the other (see RevokeFamily).
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
	d := &familyDoc{ID: id, Tenant: s.tenant, Family: *f, Current: first}
	d.Revoked = false
	if err := s.insertFresh(ctx, s.c.families, id, d); err != nil {
		return err
	}
	revoked, err := s.claimed(ctx, s.claimID(claimFamily, f.ID))
	if err != nil {
		return err
	}
	if revoked {
		// A tombstone: make it outlive the family it now revokes.
		if err := s.extendRevocation(ctx, f.ID, f.ExpiresAt); err != nil {
			return err
		}
		return storage.ErrRevoked
	}
	return nil
}

func (s *Store) family(ctx context.Context, id string) (*familyDoc, error) {
	var d familyDoc
	if err := s.findOne(ctx, s.c.families, bson.M{"_id": s.id(id), "expires_at": live(s.now())}, &d); err != nil {
		return nil, err
	}
	fix(&d.Family)
	return &d, nil
}

// GetFamily implements storage.Families: the family and its revocation.
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
	if d.Revoked, err = s.claimed(ctx, s.claimID(claimFamily, id)); err != nil {
		return nil, err
	}
	return &d.Family, nil
}

// lookup finds the refresh token hash of a live family: with its claim when
// it was rotated (returned with Used set), else as the current token or a
// successor of it named by a rotation claim.
func (s *Store) lookup(ctx context.Context, family, hash string) (*storage.RefreshToken, *familyDoc, error) {
	now := s.now()
	d, err := s.family(ctx, family)
	if errors.Is(err, storage.ErrNotFound) {
		if revoked, rerr := s.claimed(ctx, s.claimID(claimFamily, family)); rerr != nil || revoked {
			return nil, nil, orRevoked(rerr)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	cur, err := s.c.claims.Find(ctx, bson.M{"_id": bson.M{"$in": []string{s.claimID(claimFamily, family), s.claimID(claimRefresh, family, hash)}},
		"expires_at": live(now)})
	if err != nil {
		return nil, nil, mapErr(err)
	}
	var claims []claimDoc
	if err := cur.All(ctx, &claims); err != nil {
		return nil, nil, mapErr(err)
	}
	var rotated *claimDoc
	for i := range claims {
		if claims[i].ID == s.claimID(claimFamily, family) {
			return nil, nil, storage.ErrRevoked
		}
		rotated = &claims[i]
	}
	if rotated != nil && rotated.Old != nil {
		rt := *rotated.Old
		rt.Used = true
		return liveToken(&rt, now, d)
	}
	t := d.Current
	for i := 0; t != nil && t.Hash != hash; i++ {
		if i == maxChain {
			return nil, nil, storage.ErrNotFound
		}
		c, err := s.findClaim(ctx, s.claimID(claimRefresh, family, t.Hash))
		if err != nil {
			return nil, nil, err
		}
		if c == nil {
			return nil, nil, storage.ErrNotFound
		}
		t = c.Next
	}
	if t == nil {
		return nil, nil, storage.ErrNotFound
	}
	rt := *t
	return liveToken(&rt, now, d)
}

func liveToken(rt *storage.RefreshToken, now time.Time, d *familyDoc) (*storage.RefreshToken, *familyDoc, error) {
	if storage.Expired(rt.ExpiresAt, now) {
		return nil, nil, storage.ErrNotFound
	}
	return rt, d, nil
}

// orRevoked is ErrRevoked unless err is set.
func orRevoked(err error) error {
	if err != nil {
		return err
	}
	return storage.ErrRevoked
}

// GetRefresh implements storage.Families.
func (s *Store) GetRefresh(ctx context.Context, family, hash string) (*storage.RefreshToken, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	rt, _, err := s.lookup(ctx, family, hash)
	return rt, err
}

// RotateRefresh implements storage.Families. The claim of the old token
// decides (of concurrent rotations exactly one is inserted, so the family
// never forks) and holds the next token, so the rotation is complete once
// the claim exists: every rotated token of the family stays detectable as
// reused until it expires, and the successor is found through the claim
// even if moving the family document forward fails afterwards.
func (s *Store) RotateRefresh(ctx context.Context, family, oldHash string, next *storage.RefreshToken) (*storage.RefreshToken, error) {
	if next == nil || next.Hash == "" || next.ExpiresAt.IsZero() || next.Family != family {
		return nil, storage.ErrInvalid
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	old, _, err := s.lookup(ctx, family, oldHash)
	if err != nil {
		return nil, err
	}
	if old.Used {
		return old, storage.ErrAlreadyUsed
	}
	exp := old.ExpiresAt
	if next.ExpiresAt.After(exp) {
		exp = next.ExpiresAt
	}
	old.RotatedAt, old.NextHash = s.now().UTC(), next.Hash
	won, err := s.claim(ctx, &claimDoc{ID: s.claimID(claimRefresh, family, oldHash), ExpiresAt: exp, Old: old, Next: next})
	if err != nil {
		return nil, err
	}
	old.Used = true
	if !won {
		// The winner's claim holds what its rotation decided.
		return s.lookupUsed(ctx, family, oldHash, old)
	}
	if s.afterClaim(claimRefresh) == nil {
		// Tidy-up only: readers follow the claim when this fails.
		_, _ = s.c.families.UpdateOne(ctx, bson.M{"_id": s.id(family), "current.hash": oldHash}, bson.M{"$set": bson.M{"current": next}})
	}
	return old, nil
}

// RevokeFamily implements storage.Families: a revocation claim living as
// long as the family, or FamilyTombstoneLifetime when there is no family
// yet. The claim is inserted first and the family read after; CreateFamily
// does the reverse, so when the two race one of them sees the other and
// extends the revocation to the family's expiry.
func (s *Store) RevokeFamily(ctx context.Context, id string) error {
	if id == "" {
		return storage.ErrInvalid
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	now := s.now()
	if _, err := s.claim(ctx, &claimDoc{ID: s.claimID(claimFamily, id), ExpiresAt: now.Add(s.tombstoneTTL), Family: id, RevokedAt: now}); err != nil {
		return err
	}
	d, err := s.family(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.extendRevocation(ctx, id, d.ExpiresAt)
}

// extendRevocation makes a family's revocation last until at least until,
// and dates it anew so that revocation watchers learn its new end.
func (s *Store) extendRevocation(ctx context.Context, id string, until time.Time) error {
	_, err := s.c.claims.UpdateOne(ctx, bson.M{"_id": s.claimID(claimFamily, id)},
		bson.M{"$max": bson.M{"expires_at": until}, "$set": bson.M{fieldRevokedAt: s.now()}})
	return mapErr(err)
}

func (s *Store) revocationID(family, jti string) string { return s.id(family + storage.KeySep + jti) }

// RevokeToken implements storage.Revocations: an upsert keeping the later
// expiry, dated in the same write for revocation watchers.
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
	update := bson.M{"$set": bson.M{"tenant": s.tenant, "jti": r.JTI, "family": r.Family, fieldRevokedAt: s.now()},
		"$max": bson.M{"expires_at": r.ExpiresAt}}
	_, err = s.c.revocations.UpdateOne(ctx, bson.M{"_id": id}, update, options.Update().SetUpsert(true))
	if mongodriver.IsDuplicateKeyError(err) {
		// A concurrent revocation inserted it first: update that one.
		_, err = s.c.revocations.UpdateOne(ctx, bson.M{"_id": id}, update)
	}
	return mapErr(err)
}

// TokenRevoked implements storage.Revocations: the jti's revocation, then
// the family's.
func (s *Store) TokenRevoked(ctx context.Context, family, jti string) (bool, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return false, err
	}
	defer cancel()
	now := s.now()
	n, err := s.c.revocations.CountDocuments(ctx, bson.M{"_id": s.revocationID(family, jti), "expires_at": live(now)}, options.Count().SetLimit(1))
	if err != nil {
		return false, mapErr(err)
	}
	if n > 0 || family == "" {
		return n > 0, nil
	}
	return s.claimed(ctx, s.claimID(claimFamily, family))
}

// lookupUsed answers RotateRefresh for the loser of a rotation: the old
// token as the winner's claim holds it (with its RotatedAt and NextHash),
// or, when it cannot be read, the old token without them, so that nothing
// is taken for the winner's decision.
func (s *Store) lookupUsed(ctx context.Context, family, hash string, old *storage.RefreshToken) (*storage.RefreshToken, error) {
	rt, _, err := s.lookup(ctx, family, hash)
	if err != nil || !rt.Used {
		old.RotatedAt, old.NextHash = time.Time{}, ""
		return old, storage.ErrAlreadyUsed
	}
	return rt, storage.ErrAlreadyUsed
}
