package redis

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/storage"
)

// A device code is one hash under its own tag, {prefix:tenant:dev:USER},
// so every operation is one script on one key. Field 'd' holds the record
// as created; the fields the scripts change are apart: 'h' device-code
// hash, 'c' client, 's' status, 'g' the grant (JSON), 'f' its family,
// 'i' interval and 'l' last poll (ms), 'x' expiry and 'k' retention (Unix
// ms), 'u' used. Every instant is judged by the store's clock (ARGV now).

// createDevice: KEYS = device; ARGV = json, hash, client, interval ms, last
// poll ms, expiry ms, kept-until ms, now ms. Returns 0 when a record still
// kept holds the user code.
var createDevice = goredis.NewScript(`
local k = redis.call('HGET', KEYS[1], 'k')
if k and tonumber(k) > tonumber(ARGV[8]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'h', ARGV[2], 'c', ARGV[3], 'i', ARGV[4], 'l', ARGV[5], 'x', ARGV[6], 'k', ARGV[7], 's', 'pending', 'u', '0')
redis.call('PEXPIREAT', KEYS[1], ARGV[7])
return 1`)

// decideDevice: KEYS = device; ARGV = status, grant json, family, retain
// ms, now ms. Returns 1 when decided, 0 when absent, expired or used, -1
// when decided before.
var decideDevice = goredis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'u', 'x', 'k', 's')
if not h[2] then return 0 end
if h[1] == '1' or tonumber(h[2]) <= tonumber(ARGV[5]) then return 0 end
if h[4] ~= 'pending' then return -1 end
local k = h[3]
if tonumber(ARGV[4]) > tonumber(k) then k = ARGV[4] end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'g', ARGV[2], 'f', ARGV[3], 'k', k)
redis.call('PEXPIREAT', KEYS[1], k)
return 1`)

// pollDevice: KEYS = device; ARGV = hash, client, now ms, slow-down ms
// (storage.DevicePoll). Returns false for no record of this hash and
// client, else {state, fields...}: 'used', 'expired', 'slow' (interval
// grown), 'polled' (pending or denied), 'taken' (the approved grant, the
// record then keeps a used marker only).
var pollDevice = goredis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'h', 'c', 'u', 'x', 'k', 'l', 'i', 's')
if not h[1] then return false end
local now = tonumber(ARGV[3])
if h[1] ~= ARGV[1] or h[2] ~= ARGV[2] or tonumber(h[5]) <= now then return false end
if h[3] == '1' then return {'used', unpack(redis.call('HGETALL', KEYS[1]))} end
if tonumber(h[4]) <= now then return {'expired'} end
if now < tonumber(h[6]) + tonumber(h[7]) then
  redis.call('HSET', KEYS[1], 'i', tostring(tonumber(h[7]) + tonumber(ARGV[4])), 'l', ARGV[3])
  return {'slow', unpack(redis.call('HGETALL', KEYS[1]))}
end
redis.call('HSET', KEYS[1], 'l', ARGV[3])
if h[8] ~= 'approved' then return {'polled', unpack(redis.call('HGETALL', KEYS[1]))} end
local all = redis.call('HGETALL', KEYS[1])
redis.call('HSET', KEYS[1], 'u', '1')
redis.call('HDEL', KEYS[1], 'd', 'g')
return {'taken', unpack(all)}`)

// countAttempt: KEYS = attempts (a sorted set by expiry); ARGV = id, expiry
// ms, now ms. Returns the live attempts, this one included.
var countAttempt = goredis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], top[2])
return redis.call('ZCARD', KEYS[1])`)

func (s *Store) deviceKey(userCode string) string { return s.ownTag("dev", userCode) }
func (s *Store) attemptKey(key string) string     { return s.ownTag("att", url.QueryEscape(key)) }

// CreateDeviceCode implements storage.DeviceCodes: one script.
func (s *Store) CreateDeviceCode(ctx context.Context, d *storage.DeviceCode) error {
	if err := storage.ValidDeviceCode(d); err != nil {
		return err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	v, err := encode(d)
	if err != nil {
		return err
	}
	n, err := createDevice.Run(ctx, s.rdb, []string{s.deviceKey(d.UserCode)}, v, d.Hash, d.ClientID, d.Interval.Milliseconds(),
		pxat(d.LastPoll), pxat(d.ExpiresAt), pxat(storage.DeviceKeptUntil(d)), s.nowArg()).Int()
	if err != nil {
		return unavailable(err)
	}
	if n == 0 {
		return storage.ErrDuplicate
	}
	return nil
}

// GetDeviceCode implements storage.DeviceCodes: one HGETALL.
func (s *Store) GetDeviceCode(ctx context.Context, userCode string) (*storage.DeviceCode, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	m, err := s.rdb.HGetAll(ctx, s.deviceKey(userCode)).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	if len(m) == 0 {
		return nil, storage.ErrNotFound
	}
	d, err := deviceOf(m)
	if err != nil {
		return nil, err
	}
	if d.Used || storage.Expired(d.ExpiresAt, s.now()) {
		return nil, storage.ErrNotFound
	}
	return d, nil
}

// DecideDeviceCode implements storage.DeviceCodes: one script.
func (s *Store) DecideDeviceCode(ctx context.Context, userCode string, g *storage.DeviceGrant, retainUntil time.Time) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	status, gv, family := string(storage.DeviceDenied), "", ""
	if g != nil {
		status, family = string(storage.DeviceApproved), g.Family
		if gv, err = encode(g); err != nil {
			return err
		}
	}
	n, err := decideDevice.Run(ctx, s.rdb, []string{s.deviceKey(userCode)}, status, gv, family, pxat(retainUntil), s.nowArg()).Int()
	switch {
	case err != nil:
		return unavailable(err)
	case n == 0:
		return storage.ErrNotFound
	case n < 0:
		return storage.ErrAlreadyUsed
	}
	return nil
}

// PollDeviceCode implements storage.DeviceCodes: one script.
func (s *Store) PollDeviceCode(ctx context.Context, userCode, hash, clientID string) (*storage.DeviceCode, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	res, err := pollDevice.Run(ctx, s.rdb, []string{s.deviceKey(userCode)}, hash, clientID, s.nowArg(), storage.DeviceSlowDown.Milliseconds()).Slice()
	if errors.Is(err, goredis.Nil) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err)
	}
	state, _ := res[0].(string)
	if state == "expired" {
		return nil, storage.ErrExpired
	}
	m := make(map[string]string, len(res)/2)
	for i := 1; i+1 < len(res); i += 2 {
		k, _ := res[i].(string)
		v, _ := res[i+1].(string)
		m[k] = v
	}
	d, err := deviceOf(m)
	if err != nil {
		return nil, err
	}
	switch state {
	case "used":
		return storage.DeviceUsedMarker(d), storage.ErrAlreadyUsed
	case "slow":
		return d, storage.ErrSlowDown
	case "polled", "taken":
		return d, nil
	}
	return nil, storage.ErrCorrupt
}

// deviceOf rebuilds a device code from its hash fields.
func deviceOf(m map[string]string) (*storage.DeviceCode, error) {
	d := &storage.DeviceCode{}
	if v := m["d"]; v != "" {
		r, err := decode[storage.DeviceCode](v)
		if err != nil {
			return nil, err
		}
		d = r
	}
	if v := m["g"]; v != "" {
		g, err := decode[storage.DeviceGrant](v)
		if err != nil {
			return nil, err
		}
		d.DeviceGrant = *g
	}
	d.Hash, d.ClientID, d.Status, d.Used = m["h"], m["c"], storage.DeviceStatus(m["s"]), m["u"] == "1"
	if f := m["f"]; f != "" {
		d.Family = f
	}
	ms := func(k string) (int64, error) {
		n, err := strconv.ParseInt(m[k], 10, 64)
		if err != nil {
			return 0, errors.Join(storage.ErrCorrupt, errors.New("redis device code"))
		}
		return n, nil
	}
	var vals [4]int64
	for i, k := range []string{"i", "l", "x", "k"} {
		n, err := ms(k)
		if err != nil {
			return nil, err
		}
		vals[i] = n
	}
	d.Interval = time.Duration(vals[0]) * time.Millisecond
	d.LastPoll = time.UnixMilli(vals[1]).UTC()
	d.ExpiresAt = time.UnixMilli(vals[2]).UTC()
	if k := time.UnixMilli(vals[3]).UTC(); k.After(d.ExpiresAt) {
		d.RetainUntil = k
	} else {
		d.RetainUntil = time.Time{}
	}
	return d, nil
}

// CountAttempt implements storage.DeviceCodes: one script on a sorted set.
func (s *Store) CountAttempt(ctx context.Context, key, id string, window time.Duration) (int64, error) {
	if key == "" || id == "" || window <= 0 {
		return 0, storage.ErrInvalid
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	now := s.now()
	n, err := countAttempt.Run(ctx, s.rdb, []string{s.attemptKey(key)}, id, pxat(now.Add(window)), pxat(now)).Int64()
	if err != nil {
		return 0, unavailable(err)
	}
	return n, nil
}

// ForgetAttempt implements storage.DeviceCodes: ZREM.
func (s *Store) ForgetAttempt(ctx context.Context, key, id string) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	if err := s.rdb.ZRem(ctx, s.attemptKey(key), id).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}
