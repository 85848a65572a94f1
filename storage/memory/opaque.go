package memory

import (
	"context"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// CreateOpaque implements storage.OpaqueTokens.
func (s *Store) CreateOpaque(ctx context.Context, o *storage.OpaqueToken) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.ValidOpaque(o); err != nil {
		return err
	}
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return err
	}
	defer s.b.mu.Unlock()
	if old, ok := t.opaque[o.Hash]; ok && storage.Live(old.ExpiresAt, now) {
		return storage.ErrDuplicate
	}
	t.opaque[o.Hash] = cloneOpaque(o)
	t.schedule(kindOpaque, o.Hash, o.ExpiresAt, now)
	return nil
}

// GetOpaque implements storage.OpaqueTokens: one map read and the family's
// revocation under one lock.
func (s *Store) GetOpaque(ctx context.Context, family, hash string) (*storage.OpaqueToken, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.b.mu.RLock()
	defer s.b.mu.RUnlock()
	t := s.b.tenants[s.id]
	if t == nil {
		return nil, storage.ErrNotFound
	}
	now := s.now()
	o, ok := t.opaque[hash]
	if !ok || o.Family != family || storage.Expired(o.ExpiresAt, now) {
		return nil, storage.ErrNotFound
	}
	if o.Revoked || family != "" && t.familyRevoked(family, now) {
		return nil, storage.ErrRevoked
	}
	return cloneOpaque(o), nil
}

// familyRevoked reports whether the live family, or a tombstone of its
// id, is revoked. The caller holds the lock.
func (t *tenant) familyRevoked(id string, now time.Time) bool {
	if e := t.families[id]; e != nil && e.f.Revoked && storage.Live(e.f.ExpiresAt, now) {
		return true
	}
	return t.tombstoned(id, now)
}

// RevokeOpaque implements storage.OpaqueTokens.
func (s *Store) RevokeOpaque(ctx context.Context, family, hash string) error {
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return err
	}
	defer s.b.mu.Unlock()
	o, ok := t.opaque[hash]
	if !ok || o.Family != family || storage.Expired(o.ExpiresAt, now) {
		return storage.ErrNotFound
	}
	o.Revoked = true
	return nil
}

func cloneOpaque(o *storage.OpaqueToken) *storage.OpaqueToken {
	c := *o
	c.Audience = cloneStrings(o.Audience)
	return &c
}
