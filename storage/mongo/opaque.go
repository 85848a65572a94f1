package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/scopekit/scopekit/storage"
)

// Opaque tokens are claims: the token is inserted once under its hash
// ("ot"), its revocation is a second claim ("otr"), so that no update
// decides anything (see the claim kinds in transient.go).
const (
	claimOpaque        = "ot"
	claimOpaqueRevoked = "otr"
)

// CreateOpaque implements storage.OpaqueTokens: one insert.
func (s *Store) CreateOpaque(ctx context.Context, o *storage.OpaqueToken) error {
	if err := storage.ValidOpaque(o); err != nil {
		return err
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	c := *o
	c.IssuedAt, c.ExpiresAt = c.IssuedAt.UTC(), c.ExpiresAt.UTC()
	d := &claimDoc{ID: s.claimID(claimOpaque, o.Hash), Tenant: s.tenant, ExpiresAt: c.ExpiresAt, Opaque: &c}
	return s.insertFresh(ctx, s.c.claims, d.ID, d)
}

// GetOpaque implements storage.OpaqueTokens: one query reads the token,
// its revocation and its family's.
func (s *Store) GetOpaque(ctx context.Context, family, hash string) (*storage.OpaqueToken, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	tokenID := s.claimID(claimOpaque, hash)
	ids := []string{tokenID, s.claimID(claimOpaqueRevoked, hash)}
	if family != "" {
		ids = append(ids, s.claimID(claimFamily, family))
	}
	cur, err := s.c.claims.Find(ctx, bson.M{"_id": bson.M{"$in": ids}, "expires_at": live(s.now())})
	if err != nil {
		return nil, mapErr(err)
	}
	var docs []claimDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err)
	}
	var tok *storage.OpaqueToken
	revoked := false
	for i := range docs {
		if docs[i].ID == tokenID {
			tok = docs[i].Opaque
		} else {
			revoked = true
		}
	}
	if tok == nil || tok.Family != family || storage.Expired(tok.ExpiresAt, s.now()) {
		return nil, storage.ErrNotFound
	}
	if revoked {
		return nil, storage.ErrRevoked
	}
	return tok, nil
}

// RevokeOpaque implements storage.OpaqueTokens: a revocation claim living
// as long as the token.
func (s *Store) RevokeOpaque(ctx context.Context, family, hash string) error {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	d, err := s.findClaim(ctx, s.claimID(claimOpaque, hash))
	if err != nil {
		return err
	}
	if d == nil || d.Opaque == nil || d.Opaque.Family != family || storage.Expired(d.Opaque.ExpiresAt, s.now()) {
		return storage.ErrNotFound
	}
	_, err = s.claim(ctx, &claimDoc{ID: s.claimID(claimOpaqueRevoked, hash), ExpiresAt: d.Opaque.ExpiresAt})
	return err
}
