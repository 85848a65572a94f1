package redis

import (
	"context"
	"errors"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/storage"
)

// begin checks the context and applies the store's timeout.
func (s *Store) begin(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	ctx, cancel := s.ctx(ctx)
	return ctx, cancel, nil
}

func (s *Store) requestKey(id string) string { return s.ownTag("ar", id) }
func (s *Store) codeKey(hash string) string  { return s.ownTag("code", hash) }
func (s *Store) famKey(id string) string     { return s.famTag(id) + ":f" }
func (s *Store) rtKey(fam, hash string) string {
	return s.famTag(fam) + ":rt:" + hash
}
func (s *Store) revKey(fam, jti string) string {
	if fam == "" {
		return s.ownTag("rev", jti)
	}
	return s.famTag(fam) + ":rev:" + jti
}

// live fails with ErrNotFound for a record past its expiry on the store's
// clock: key TTLs only collect garbage, and a key Redis has not evicted yet
// is never reported.
func (s *Store) live(expiresAt time.Time) error {
	if storage.Expired(expiresAt, s.now()) {
		return storage.ErrNotFound
	}
	return nil
}

// nowArg is the store's clock as a script argument, in Unix milliseconds.
func (s *Store) nowArg() int64 { return pxat(s.now()) }

// CreateAuthRequest implements storage.AuthRequests: SET NX PXAT, one round trip.
func (s *Store) CreateAuthRequest(ctx context.Context, r *storage.AuthRequest) error {
	if r.ID == "" || r.ExpiresAt.IsZero() {
		return storage.ErrInvalid
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	v, err := encode(r)
	if err != nil {
		return err
	}
	ok, err := s.rdb.SetArgs(ctx, s.requestKey(r.ID), v, goredis.SetArgs{Mode: "NX", ExpireAt: r.ExpiresAt}).Result()
	if errors.Is(err, goredis.Nil) {
		return storage.ErrDuplicate
	}
	if err != nil {
		return unavailable(err)
	}
	if ok != "OK" {
		return storage.ErrDuplicate
	}
	return nil
}

func (s *Store) readRequest(ctx context.Context, id string, take bool) (*storage.AuthRequest, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var v string
	if take {
		v, err = s.rdb.GetDel(ctx, s.requestKey(id)).Result()
	} else {
		v, err = s.rdb.Get(ctx, s.requestKey(id)).Result()
	}
	if errors.Is(err, goredis.Nil) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err)
	}
	r, err := decode[storage.AuthRequest](v)
	if err != nil {
		return nil, err
	}
	return r, s.live(r.ExpiresAt)
}

// GetAuthRequest implements storage.AuthRequests: one round trip.
func (s *Store) GetAuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	return s.readRequest(ctx, id, false)
}

// TakeAuthRequest implements storage.AuthRequests: GETDEL, one round trip.
func (s *Store) TakeAuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	return s.readRequest(ctx, id, true)
}

// CreateCode implements storage.Codes: one script, one round trip.
func (s *Store) CreateCode(ctx context.Context, c *storage.AuthCode) error {
	if c.Hash == "" || c.ExpiresAt.IsZero() {
		return storage.ErrInvalid
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	v, err := encode(c)
	if err != nil {
		return err
	}
	n, err := createCode.Run(ctx, s.rdb, []string{s.codeKey(c.Hash)}, v, pxat(c.ExpiresAt), pxat(storage.CodeKeptUntil(c)), s.nowArg()).Int()
	if err != nil {
		return unavailable(err)
	}
	if n == 0 {
		return storage.ErrDuplicate
	}
	return nil
}

// ConsumeCode implements storage.Codes: one script, one round trip.
func (s *Store) ConsumeCode(ctx context.Context, hash string) (*storage.AuthCode, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	res, err := consumeCode.Run(ctx, s.rdb, []string{s.codeKey(hash)}, s.nowArg()).Slice()
	if errors.Is(err, goredis.Nil) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err)
	}
	c, err := decode[storage.AuthCode](res[1].(string))
	if err != nil {
		return nil, err
	}
	c.Used, c.UsedAt = true, msAt(res, 2)
	if res[0] == "used" {
		return c, storage.ErrAlreadyUsed
	}
	return c, nil
}

// CreateFamily implements storage.Families: one script, one round trip.
func (s *Store) CreateFamily(ctx context.Context, f *storage.Family, first *storage.RefreshToken) error {
	if f.ID == "" || f.ExpiresAt.IsZero() || first != nil && (first.Hash == "" || first.ExpiresAt.IsZero() || first.Family != f.ID) {
		return storage.ErrInvalid
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	fv, err := encode(f)
	if err != nil {
		return err
	}
	tokenKey, tv, texp := s.rtKey(f.ID, "-"), "", int64(0)
	if first != nil {
		tokenKey, texp = s.rtKey(f.ID, first.Hash), pxat(first.ExpiresAt)
		if tv, err = encode(first); err != nil {
			return err
		}
	}
	if err := s.indexFamily(ctx, f); err != nil {
		return err
	}
	n, err := createFamily.Run(ctx, s.rdb, []string{s.famKey(f.ID), tokenKey}, fv, pxat(f.ExpiresAt), tv, texp, s.nowArg()).Int()
	if err != nil {
		return unavailable(err)
	}
	switch n {
	case 0:
		return storage.ErrDuplicate
	case -1:
		return storage.ErrRevoked
	}
	return nil
}

// GetFamily implements storage.Families: one round trip.
func (s *Store) GetFamily(ctx context.Context, id string) (*storage.Family, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	vals, err := s.rdb.HMGet(ctx, s.famKey(id), "d", "r").Result()
	if err != nil {
		return nil, unavailable(err)
	}
	d, ok := vals[0].(string)
	if !ok {
		return nil, storage.ErrNotFound
	}
	f, err := decode[storage.Family](d)
	if err != nil {
		return nil, err
	}
	f.Revoked = vals[1] == "1"
	return f, s.live(f.ExpiresAt)
}

// refreshState maps a family script's state to the contract's errors.
func refreshState(state string) error {
	switch state {
	case "ok", "used":
		return nil
	case "revoked":
		return storage.ErrRevoked
	}
	return storage.ErrNotFound
}

// GetRefresh implements storage.Families: one script, one round trip.
func (s *Store) GetRefresh(ctx context.Context, family, hash string) (*storage.RefreshToken, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	res, err := getRefresh.Run(ctx, s.rdb, []string{s.famKey(family), s.rtKey(family, hash)}, s.nowArg()).Slice()
	if err != nil {
		return nil, unavailable(err)
	}
	if err := refreshState(res[0].(string)); err != nil {
		return nil, err
	}
	rt, err := decode[storage.RefreshToken](res[1].(string))
	if err != nil {
		return nil, err
	}
	rt.Used = res[2] != "0"
	if rt.Used {
		rt.NextHash, rt.RotatedAt = res[3].(string), msAt(res, 4)
	}
	return rt, s.live(rt.ExpiresAt)
}

// RotateRefresh implements storage.Families: one script, one round trip.
func (s *Store) RotateRefresh(ctx context.Context, family, oldHash string, next *storage.RefreshToken) (*storage.RefreshToken, error) {
	if next == nil || next.Hash == "" || next.ExpiresAt.IsZero() || next.Family != family {
		return nil, storage.ErrInvalid
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	nv, err := encode(next)
	if err != nil {
		return nil, err
	}
	keys := []string{s.famKey(family), s.rtKey(family, oldHash), s.rtKey(family, next.Hash)}
	now := s.nowArg()
	res, err := rotateRefresh.Run(ctx, s.rdb, keys, now, nv, pxat(next.ExpiresAt), next.Hash).Slice()
	if err != nil {
		return nil, unavailable(err)
	}
	state := res[0].(string)
	if err := refreshState(state); err != nil {
		return nil, err
	}
	old, err := decode[storage.RefreshToken](res[1].(string))
	if err != nil {
		return nil, err
	}
	old.Used = true
	if state == "used" {
		old.NextHash, old.RotatedAt = res[3].(string), msAt(res, 4)
		return old, storage.ErrAlreadyUsed
	}
	old.NextHash, old.RotatedAt = next.Hash, time.UnixMilli(now).UTC()
	return old, nil
}

// RevokeFamily implements storage.Families: one script, one round trip,
// which also announces the revocation to WatchRevocations. A family that
// does not exist yet gets a tombstone living the store's tombstone
// lifetime (storage.FamilyTombstoneLifetime).
func (s *Store) RevokeFamily(ctx context.Context, id string) error {
	if id == "" {
		return storage.ErrInvalid
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	now := s.now()
	until := now.Add(s.tombstoneTTL)
	err = revokeFamily.Run(ctx, s.rdb, []string{s.famKey(id)}, pxat(now), pxat(until),
		s.revocationsChannel(), revocationMessage('f', id, until)).Err()
	if err != nil {
		return unavailable(err)
	}
	return nil
}

// RevokeToken implements storage.Revocations: one script (SET PXAT and the
// announcement to WatchRevocations), one round trip.
func (s *Store) RevokeToken(ctx context.Context, r *storage.Revocation) error {
	if r.JTI == "" || r.ExpiresAt.IsZero() {
		return storage.ErrInvalid
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	err = revokeToken.Run(ctx, s.rdb, []string{s.revKey(r.Family, r.JTI)}, pxat(r.ExpiresAt),
		s.revocationsChannel(), revocationMessage('j', r.JTI, r.ExpiresAt)).Err()
	if err != nil {
		return unavailable(err)
	}
	return nil
}

// TokenRevoked implements storage.Revocations: one round trip (GET, or one
// script checking the family and the jti together), judged by the store's
// clock.
func (s *Store) TokenRevoked(ctx context.Context, family, jti string) (bool, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return false, err
	}
	defer cancel()
	if family == "" {
		v, err := s.rdb.Get(ctx, s.revKey("", jti)).Int64()
		switch {
		case errors.Is(err, goredis.Nil):
			return false, nil
		case err != nil:
			return false, unavailable(err)
		}
		// "1" is a revocation written before expiries were kept: its TTL judges it.
		return v == 1 || storage.Live(time.UnixMilli(v), s.now()), nil
	}
	n, err := tokenRevoked.Run(ctx, s.rdb, []string{s.famKey(family), s.revKey(family, jti)}, s.nowArg()).Int64()
	if err != nil {
		return false, unavailable(err)
	}
	return n > 0, nil
}

// msAt reads the instant in milliseconds a script returned at index i; zero
// when absent or 0 (a record written before the field existed).
func msAt(res []any, i int) time.Time {
	if i >= len(res) {
		return time.Time{}
	}
	var ms int64
	switch v := res[i].(type) {
	case string:
		ms, _ = strconv.ParseInt(v, 10, 64)
	case int64:
		ms = v
	}
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
