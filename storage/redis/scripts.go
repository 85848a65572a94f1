package redis

import goredis "github.com/redis/go-redis/v9"

// The Lua scripts of the atomic operations. Each touches only keys of one
// hash tag, declared in KEYS.

// createRecord: KEYS = record, index; ARGV = json, key. Returns 1 when
// written, 0 when the record exists.
var createRecord = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 1`)

// updateRecord: KEYS = record; ARGV = json, expected revision. A
// compare-and-set on the stored record's "revision" (0 when absent). Returns
// 1 when written, 0 when there is no record, -1 when the stored revision
// differs, -2 when the stored record is not JSON. Revisions are below 2^53,
// exact as Lua numbers.
var updateRecord = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ok, rec = pcall(cjson.decode, cur)
if not ok or type(rec) ~= 'table' then return -2 end
local rev = rec['revision']
if type(rev) ~= 'number' then rev = 0 end
if rev ~= tonumber(ARGV[2]) then return -1 end
redis.call('SET', KEYS[1], ARGV[1])
return 1`)

// deleteRecord: KEYS = record, index; ARGV = key. Returns 1 when deleted.
var deleteRecord = goredis.NewScript(`
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1`)

// createCode: KEYS = code hash; ARGV = json, expiry ms. Returns 0 when the
// code exists.
var createCode = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'u', 0)
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1`)

// consumeCode: KEYS = code hash. Returns {uses, json} or false. The first
// caller sees uses == 1; the hash keeps its TTL.
var consumeCode = goredis.NewScript(`
local d = redis.call('HGET', KEYS[1], 'd')
if not d then return false end
return {redis.call('HINCRBY', KEYS[1], 'u', 1), d}`)

// createFamily: KEYS = family, first token (may be unused); ARGV = family
// json, family expiry ms, token json or ”, token expiry ms. Returns 0 when
// the family exists, -1 when its id carries a revocation tombstone (a
// family hash without 'd').
var createFamily = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HEXISTS', KEYS[1], 'd') == 0 then return -1 end
  return 0
end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'r', 0)
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[2], 'd', ARGV[3], 'u', 0)
  redis.call('PEXPIREAT', KEYS[2], ARGV[4])
end
return 1`)

// getRefresh: KEYS = family, token. Returns {state, json, used} where state
// is 'missing', 'revoked' or 'ok'.
var getRefresh = goredis.NewScript(`
local r = redis.call('HGET', KEYS[1], 'r')
if not r then return {'missing'} end
if r == '1' then return {'revoked'} end
local t = redis.call('HMGET', KEYS[2], 'd', 'u')
if not t[1] then return {'missing'} end
return {'ok', t[1], t[2]}`)

// rotateRefresh: KEYS = family, old token, next token; ARGV = next json,
// next expiry ms. Returns {state, old json} with state 'missing',
// 'revoked', 'used' or 'ok'; only 'ok' stores next.
var rotateRefresh = goredis.NewScript(`
local r = redis.call('HGET', KEYS[1], 'r')
if not r then return {'missing'} end
if r == '1' then return {'revoked'} end
local t = redis.call('HMGET', KEYS[2], 'd', 'u')
if not t[1] then return {'missing'} end
if t[2] ~= '0' then return {'used', t[1]} end
redis.call('HSET', KEYS[2], 'u', 1)
redis.call('HSET', KEYS[3], 'd', ARGV[1], 'u', 0)
redis.call('PEXPIREAT', KEYS[3], ARGV[2])
return {'ok', t[1]}`)

// revokeFamily: KEYS = family; ARGV = tombstone expiry ms. Flags a family
// revoked; with no family, writes a tombstone (the hash with only 'r') that
// expires at ARGV[1]. Returns 1 for a family, 0 for a tombstone.
var revokeFamily = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'r', 1)
  return 1
end
redis.call('HSET', KEYS[1], 'r', 1)
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 0`)

// tokenRevoked: KEYS = family, jti revocation (same tag). Returns 1 when the
// family is revoked or the jti is.
var tokenRevoked = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'r') == '1' then return 1 end
return redis.call('EXISTS', KEYS[2])`)
