package redis

import goredis "github.com/redis/go-redis/v9"

// The Lua scripts of the atomic operations. Each touches only keys of one
// hash tag, declared in KEYS.

// The record scripts keep a kind's key index (a sorted set of keys) and,
// for kinds with lookups, its lookup index in step with the record. The
// lookup index is a sorted set of members "<lookup>:<hex value>:<key>"
// (see lookups.go); the record's own members are also kept in a set of
// their own, so that an update or delete removes exactly what the last
// write added, whatever the stored JSON says.

// createRecord: KEYS = record, key index [, lookup index, record's
// members]; ARGV = json, key [, members...]. Returns 1 when written, 0
// when the record exists.
var createRecord = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
if KEYS[3] then
  for _, m in ipairs(redis.call('SMEMBERS', KEYS[4])) do redis.call('ZREM', KEYS[3], m) end
  redis.call('DEL', KEYS[4])
  for i = 3, #ARGV do
    redis.call('ZADD', KEYS[3], 0, ARGV[i])
    redis.call('SADD', KEYS[4], ARGV[i])
  end
end
return 1`)

// updateRecord: KEYS = record [, lookup index, record's members]; ARGV =
// json, expected revision [, members...]. A compare-and-set on the stored
// record's "revision" (0 when absent). Returns 1 when written, 0 when there
// is no record, -1 when the stored revision differs, -2 when the stored
// record is not JSON. Revisions are below 2^53, exact as Lua numbers.
var updateRecord = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ok, rec = pcall(cjson.decode, cur)
if not ok or type(rec) ~= 'table' then return -2 end
local rev = rec['revision']
if type(rev) ~= 'number' then rev = 0 end
if rev ~= tonumber(ARGV[2]) then return -1 end
redis.call('SET', KEYS[1], ARGV[1])
if KEYS[2] then
  for _, m in ipairs(redis.call('SMEMBERS', KEYS[3])) do redis.call('ZREM', KEYS[2], m) end
  redis.call('DEL', KEYS[3])
  for i = 3, #ARGV do
    redis.call('ZADD', KEYS[2], 0, ARGV[i])
    redis.call('SADD', KEYS[3], ARGV[i])
  end
end
return 1`)

// deleteRecord: KEYS = record, key index [, lookup index, record's
// members]; ARGV = key. Returns 1 when deleted.
var deleteRecord = goredis.NewScript(`
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
if KEYS[3] then
  for _, m in ipairs(redis.call('SMEMBERS', KEYS[4])) do redis.call('ZREM', KEYS[3], m) end
  redis.call('DEL', KEYS[4])
end
return 1`)

// createCode: KEYS = code hash; ARGV = json, expiry ms, kept-until ms
// (storage.CodeKeptUntil), now ms. Returns 0 when a code still kept at now
// holds the hash. The hash keeps the expiry in 'x' and the retention in
// 'k', so that every read judges them by the store's clock.
var createCode = goredis.NewScript(`
local k = redis.call('HGET', KEYS[1], 'k')
if k and tonumber(k) > tonumber(ARGV[4]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'u', 0, 'x', ARGV[2], 'k', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1`)

// consumeCode: KEYS = code hash; ARGV = now ms. Returns {state, json,
// used-at ms} or
// false (unknown, expired unused, or a used marker past its retention).
// state 'ok' is the first consumption: the hash then keeps only a used
// marker (storage.UsedCodeMarker) until its retention, its consumption
// instant in 'ua'. 'used' is a replay and returns the marker.
var consumeCode = goredis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'd', 'u', 'x', 'k', 'ua')
if not h[1] then return false end
local now = tonumber(ARGV[1])
local x = tonumber(h[3]) or math.huge
local k = math.max(x, tonumber(h[4]) or 0)
if h[2] ~= '0' then
  if k > now then return {'used', h[1], h[5] or '0'} end
  return false
end
if x <= now then return false end
local c = cjson.decode(h[1])
local m = {hash = c.hash, client_id = c.client_id, family = c.family, used = true,
  expires_at = c.expires_at, retain_until = c.retain_until, sealed = c.sealed}
redis.call('HSET', KEYS[1], 'u', 1, 'd', cjson.encode(m), 'ua', ARGV[1])
if k > x then redis.call('PEXPIREAT', KEYS[1], k) end
return {'ok', h[1], ARGV[1]}`)

// familyLive is the Lua test of a family hash (or tombstone) being live at
// now (ARGV index n): it exists and its expiry 'x' has not passed. A hash
// written before 'x' existed is judged by its TTL alone.
const familyLive = `
local function live(key, n)
  if redis.call('EXISTS', key) == 0 then return false end
  local x = redis.call('HGET', key, 'x')
  return not x or tonumber(x) > tonumber(ARGV[n])
end
`

// createFamily: KEYS = family, first token (may be unused); ARGV = family
// json, family expiry ms, token json or empty, token expiry ms, now ms.
// Returns 0 when a live family has the id, -1 when its id carries a live
// revocation tombstone (a family hash without 'd').
var createFamily = goredis.NewScript(familyLive + `
if live(KEYS[1], 5) then
  if redis.call('HEXISTS', KEYS[1], 'd') == 0 then return -1 end
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'r', 0, 'x', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[2], 'd', ARGV[3], 'u', 0, 'x', ARGV[4])
  redis.call('PEXPIREAT', KEYS[2], ARGV[4])
end
return 1`)

// tokenState is the Lua lookup of a refresh token (KEYS[2]) of a family
// (KEYS[1]) at now (ARGV[1]): {state, json, used, next hash, rotated-at
// ms} with state 'missing', 'revoked' or 'ok'.
const tokenState = familyLive + `
local function token()
  if not live(KEYS[1], 1) then return {'missing'} end
  local r = redis.call('HGET', KEYS[1], 'r')
  if not r then return {'missing'} end
  if r == '1' then return {'revoked'} end
  local t = redis.call('HMGET', KEYS[2], 'd', 'u', 'x', 'n', 'ra')
  if not t[1] or t[3] and tonumber(t[3]) <= tonumber(ARGV[1]) then return {'missing'} end
  return {'ok', t[1], t[2], t[4] or '', t[5] or '0'}
end
`

// getRefresh: KEYS = family, token; ARGV = now ms. Returns tokenState.
var getRefresh = goredis.NewScript(tokenState + `return token()`)

// rotateRefresh: KEYS = family, old token, next token; ARGV = now ms, next
// json, next expiry ms, next hash. Returns {state, old json, used, next
// hash, rotated-at ms} with state 'missing', 'revoked', 'used' or 'ok'; only
// 'ok' stores next, and records its hash and the instant on the old token.
var rotateRefresh = goredis.NewScript(tokenState + `
local t = token()
if t[1] ~= 'ok' then return t end
if t[3] ~= '0' then return {'used', t[2], t[3], t[4], t[5]} end
redis.call('HSET', KEYS[2], 'u', 1, 'n', ARGV[4], 'ra', ARGV[1])
redis.call('HSET', KEYS[3], 'd', ARGV[2], 'u', 0, 'x', ARGV[3])
redis.call('PEXPIREAT', KEYS[3], ARGV[3])
return {'ok', t[2]}`)

// revokeFamily: KEYS = family; ARGV = now ms, tombstone expiry ms,
// revocations channel, announcement. Flags a live family revoked; with no
// live family, writes a tombstone (the hash with only 'r' and 'x') that
// expires at ARGV[2]; then announces it (announceLua). Returns 1 for a
// family, 0 for a tombstone.
var revokeFamily = goredis.NewScript(familyLive + announceLua + `
if not may_announce(ARGV[3], ARGV[4]) then return denied end
local n = 0
if live(KEYS[1], 1) then
  redis.call('HSET', KEYS[1], 'r', 1)
  n = 1
else
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'r', 1, 'x', ARGV[2])
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return n`)

// revokeToken: KEYS = jti revocation; ARGV = token expiry ms, revocations
// channel, announcement. Stores the expiry, living until it, and
// announces it (announceLua).
var revokeToken = goredis.NewScript(announceLua + `
if not may_announce(ARGV[2], ARGV[3]) then return denied end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`)

// tokenRevoked: KEYS = family, jti revocation (same tag); ARGV = now ms.
// Returns 1 when the live family is revoked or the jti's revocation (its
// expiry ms, or '1' as written before expiries were kept) is live.
var tokenRevoked = goredis.NewScript(familyLive + `
if live(KEYS[1], 1) and redis.call('HGET', KEYS[1], 'r') == '1' then return 1 end
local v = redis.call('GET', KEYS[2])
if v and (v == '1' or tonumber(v) > tonumber(ARGV[1])) then return 1 end
return 0`)

// useOnce: KEYS = the used key; ARGV = now ms, expiry ms, eviction ms.
// Returns 1 when the key was absent or its recorded expiry has passed on the
// store's clock, and records it; 0 when it is live.
var useOnce = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
return 1`)
