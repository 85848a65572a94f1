package redis

import (
	"context"
	"errors"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/storage"
)

// opaqueKeys are the keys of an opaque token's scripts: its family (a key
// never written when it has none) and the token, under one hash tag.
func (s *Store) opaqueKeys(family, hash string) []string {
	if family == "" {
		k := s.ownTag("ot", hash)
		return []string{k + ":nofam", k}
	}
	return []string{s.famKey(family), s.famTag(family) + ":ot:" + hash}
}

// createOpaque: KEYS = family, token; ARGV = json, family, expiry ms, now
// ms. Returns 0 when a live token has the hash.
var createOpaque = goredis.NewScript(`
local x = redis.call('HGET', KEYS[2], 'x')
if x and tonumber(x) > tonumber(ARGV[4]) then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'd', ARGV[1], 'f', ARGV[2], 'r', 0, 'x', ARGV[3])
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
return 1`)

// getOpaque: KEYS = family, token; ARGV = now ms, family. Returns {state,
// json} with state 'missing', 'revoked' (the token, or its live family or
// tombstone) or 'ok': the same family check as GetRefresh, in one script.
var getOpaque = goredis.NewScript(familyLive + `
local t = redis.call('HMGET', KEYS[2], 'd', 'f', 'r', 'x')
if not t[1] or t[2] ~= ARGV[2] or tonumber(t[4]) <= tonumber(ARGV[1]) then return {'missing'} end
if t[3] == '1' then return {'revoked'} end
if ARGV[2] ~= '' and live(KEYS[1], 1) and redis.call('HGET', KEYS[1], 'r') == '1' then return {'revoked'} end
return {'ok', t[1]}`)

// revokeOpaque: KEYS = family, token; ARGV = now ms, family. Returns 1
// when a live token of the family was flagged revoked.
var revokeOpaque = goredis.NewScript(`
local t = redis.call('HMGET', KEYS[2], 'f', 'x')
if not t[1] or t[1] ~= ARGV[2] or tonumber(t[2]) <= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], 'r', 1)
return 1`)

// CreateOpaque implements storage.OpaqueTokens: one script, one round trip.
func (s *Store) CreateOpaque(ctx context.Context, o *storage.OpaqueToken) error {
	if err := storage.ValidOpaque(o); err != nil {
		return err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	v, err := encode(o)
	if err != nil {
		return err
	}
	n, err := createOpaque.Run(ctx, s.rdb, s.opaqueKeys(o.Family, o.Hash), v, o.Family, pxat(o.ExpiresAt), s.nowArg()).Int()
	if err != nil {
		return unavailable(err)
	}
	if n == 0 {
		return storage.ErrDuplicate
	}
	return nil
}

// GetOpaque implements storage.OpaqueTokens: one script, one round trip,
// the family's revocation read with the token.
func (s *Store) GetOpaque(ctx context.Context, family, hash string) (*storage.OpaqueToken, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	res, err := getOpaque.Run(ctx, s.rdb, s.opaqueKeys(family, hash), s.nowArg(), family).Slice()
	if err != nil {
		return nil, unavailable(err)
	}
	switch res[0] {
	case "revoked":
		return nil, storage.ErrRevoked
	case "ok":
		return decode[storage.OpaqueToken](res[1].(string))
	}
	return nil, storage.ErrNotFound
}

// RevokeOpaque implements storage.OpaqueTokens: one script, one round trip.
func (s *Store) RevokeOpaque(ctx context.Context, family, hash string) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	n, err := revokeOpaque.Run(ctx, s.rdb, s.opaqueKeys(family, hash), s.nowArg(), family).Int()
	if errors.Is(err, goredis.Nil) {
		return storage.ErrNotFound
	}
	if err != nil {
		return unavailable(err)
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}
