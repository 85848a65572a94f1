package memory

import (
	"context"
	"errors"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// Resolve implements storage.Directory with three map reads under one lock.
func (s *Store) Resolve(ctx context.Context, clientID, audience string) (*storage.Resolution, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.b.mu.RLock()
	defer s.b.mu.RUnlock()
	t := s.tenant(false)
	if t == nil {
		return &storage.Resolution{}, nil
	}
	c := t.clients.recs[clientID]
	if audience == "" {
		return resolution(c, nil, nil), nil
	}
	return resolution(c, t.apis.recs[audience], t.grants.recs[storage.JoinKey(clientID, audience)]), nil
}

// lockShortLived takes the write lock for a short-lived write after
// checking the context and the record's key and expiry.
func (s *Store) lockShortLived(ctx context.Context, key string, expiresAt time.Time) (*tenant, time.Time, error) {
	if key == "" || expiresAt.IsZero() {
		if err := ctx.Err(); err != nil {
			return nil, time.Time{}, err
		}
		return nil, time.Time{}, storage.ErrInvalid
	}
	return s.lockRead(ctx)
}

// lockRead takes the write lock for an operation that reads and may mutate.
func (s *Store) lockRead(ctx context.Context) (*tenant, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, time.Time{}, err
	}
	s.b.mu.Lock()
	return s.tenant(true), s.now(), nil
}

// tombstoned reports whether a family id was revoked before it existed.
// The caller holds the lock.
func (t *tenant) tombstoned(id string, now time.Time) bool {
	exp, ok := t.tombstones[id]
	return ok && storage.Live(exp, now)
}

// CreateAuthRequest implements storage.AuthRequests.
func (s *Store) CreateAuthRequest(ctx context.Context, r *storage.AuthRequest) error {
	t, now, err := s.lockShortLived(ctx, r.ID, r.ExpiresAt)
	if err != nil {
		return err
	}
	defer s.b.mu.Unlock()
	if old, ok := t.requests[r.ID]; ok && storage.Live(old.ExpiresAt, now) {
		return storage.ErrDuplicate
	}
	t.requests[r.ID] = cloneAuthRequest(r)
	t.schedule(kindRequest, r.ID, r.ExpiresAt, now)
	return nil
}

// GetAuthRequest implements storage.AuthRequests.
func (s *Store) GetAuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return nil, err
	}
	defer s.b.mu.Unlock()
	r, ok := t.requests[id]
	if !ok || storage.Expired(r.ExpiresAt, now) {
		return nil, storage.ErrNotFound
	}
	return cloneAuthRequest(r), nil
}

// TakeAuthRequest implements storage.AuthRequests.
func (s *Store) TakeAuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return nil, err
	}
	defer s.b.mu.Unlock()
	r, ok := t.requests[id]
	if !ok || storage.Expired(r.ExpiresAt, now) {
		return nil, storage.ErrNotFound
	}
	delete(t.requests, id)
	return r, nil
}

// CreateCode implements storage.Codes.
func (s *Store) CreateCode(ctx context.Context, c *storage.AuthCode) error {
	t, now, err := s.lockShortLived(ctx, c.Hash, c.ExpiresAt)
	if err != nil {
		return err
	}
	defer s.b.mu.Unlock()
	if old, ok := t.codes[c.Hash]; ok && storage.Live(storage.CodeKeptUntil(old), now) {
		return storage.ErrDuplicate
	}
	t.codes[c.Hash] = cloneCode(c)
	t.schedule(kindCode, c.Hash, c.ExpiresAt, now)
	return nil
}

// ConsumeCode implements storage.Codes.
func (s *Store) ConsumeCode(ctx context.Context, hash string) (*storage.AuthCode, error) {
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return nil, err
	}
	defer s.b.mu.Unlock()
	c, ok := t.codes[hash]
	if !ok {
		return nil, storage.ErrNotFound
	}
	if err := storage.CodeState(c, now); err != nil {
		if errors.Is(err, storage.ErrAlreadyUsed) {
			return cloneCode(c), err
		}
		return nil, err
	}
	// The grant is handed out once; what stays is the used marker, kept
	// while the tokens issued from the code may live.
	out := cloneCode(c)
	out.Used, out.UsedAt = true, now.UTC()
	t.codes[hash] = storage.UsedCodeMarker(out)
	if kept := storage.CodeKeptUntil(c); kept.After(c.ExpiresAt) {
		t.schedule(kindCode, hash, kept, now)
	}
	return out, nil
}

// CreateFamily implements storage.Families.
func (s *Store) CreateFamily(ctx context.Context, f *storage.Family, first *storage.RefreshToken) error {
	if first != nil && (first.Hash == "" || first.ExpiresAt.IsZero() || first.Family != f.ID) {
		return storage.ErrInvalid
	}
	t, now, err := s.lockShortLived(ctx, f.ID, f.ExpiresAt)
	if err != nil {
		return err
	}
	defer s.b.mu.Unlock()
	if old, ok := t.families[f.ID]; ok && storage.Live(old.f.ExpiresAt, now) {
		return storage.ErrDuplicate
	}
	if t.tombstoned(f.ID, now) {
		return storage.ErrRevoked
	}
	e := &familyEntry{f: cloneFamily(f), tokens: map[string]*storage.RefreshToken{}}
	if first != nil {
		e.tokens[first.Hash] = cloneRefresh(first)
	}
	t.families[f.ID] = e
	t.schedule(kindFamily, f.ID, f.ExpiresAt, now)
	return nil
}

// family returns a live family entry. The caller holds the lock.
func (t *tenant) family(id string, now time.Time) *familyEntry {
	e := t.families[id]
	if e == nil || storage.Expired(e.f.ExpiresAt, now) {
		return nil
	}
	return e
}

// GetFamily implements storage.Families.
func (s *Store) GetFamily(ctx context.Context, id string) (*storage.Family, error) {
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return nil, err
	}
	defer s.b.mu.Unlock()
	e := t.family(id, now)
	if e == nil {
		return nil, storage.ErrNotFound
	}
	return cloneFamily(e.f), nil
}

// liveToken returns a live refresh token of a live, unrevoked family.
func (t *tenant) liveToken(family, hash string, now time.Time) (*familyEntry, *storage.RefreshToken, error) {
	e := t.family(family, now)
	if e == nil {
		if t.tombstoned(family, now) {
			return nil, nil, storage.ErrRevoked
		}
		return nil, nil, storage.ErrNotFound
	}
	if e.f.Revoked {
		return nil, nil, storage.ErrRevoked
	}
	rt := e.tokens[hash]
	if rt == nil || storage.Expired(rt.ExpiresAt, now) {
		return nil, nil, storage.ErrNotFound
	}
	return e, rt, nil
}

// GetRefresh implements storage.Families.
func (s *Store) GetRefresh(ctx context.Context, family, hash string) (*storage.RefreshToken, error) {
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return nil, err
	}
	defer s.b.mu.Unlock()
	_, rt, err := t.liveToken(family, hash, now)
	if err != nil {
		return nil, err
	}
	return cloneRefresh(rt), nil
}

// RotateRefresh implements storage.Families.
func (s *Store) RotateRefresh(ctx context.Context, family, oldHash string, next *storage.RefreshToken) (*storage.RefreshToken, error) {
	if next == nil || next.Hash == "" || next.ExpiresAt.IsZero() || next.Family != family {
		return nil, storage.ErrInvalid
	}
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return nil, err
	}
	defer s.b.mu.Unlock()
	e, rt, err := t.liveToken(family, oldHash, now)
	if err != nil {
		return nil, err
	}
	if rt.Used {
		return cloneRefresh(rt), storage.ErrAlreadyUsed
	}
	rt.Used, rt.RotatedAt, rt.NextHash = true, now.UTC(), next.Hash
	e.tokens[next.Hash] = cloneRefresh(next)
	return cloneRefresh(rt), nil
}

// RevokeFamily implements storage.Families: a flag on a live family, or a
// tombstone for an id that has no family yet.
func (s *Store) RevokeFamily(ctx context.Context, id string) error {
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return err
	}
	defer s.b.mu.Unlock()
	if e := t.family(id, now); e != nil {
		e.f.Revoked = true
		return nil
	}
	if !t.tombstoned(id, now) {
		until := now.Add(s.b.tombstoneTTL)
		t.tombstones[id] = until
		t.schedule(kindTombstone, id, until, now)
	}
	return nil
}

// RevokeToken implements storage.Revocations.
func (s *Store) RevokeToken(ctx context.Context, r *storage.Revocation) error {
	t, now, err := s.lockShortLived(ctx, r.JTI, r.ExpiresAt)
	if err != nil {
		return err
	}
	defer s.b.mu.Unlock()
	if old, ok := t.revoked[r.JTI]; !ok || old.Before(r.ExpiresAt) {
		t.revoked[r.JTI] = r.ExpiresAt
		t.schedule(kindRevoked, r.JTI, r.ExpiresAt, now)
	}
	return nil
}

// TokenRevoked implements storage.Revocations. It does not allocate.
func (s *Store) TokenRevoked(ctx context.Context, family, jti string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.b.mu.RLock()
	defer s.b.mu.RUnlock()
	t := s.b.tenants[s.id]
	if t == nil {
		return false, nil
	}
	now := s.now()
	if exp, ok := t.revoked[jti]; ok && storage.Live(exp, now) {
		return true, nil
	}
	return family != "" && t.familyRevoked(family, now), nil
}
