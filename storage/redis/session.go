package redis

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/storage"
)

// An OP session is one hash under its own tag, {prefix:tenant:sess:ID}:
// 'd' the record as created (JSON, without clients), 'x' its expiry and
// 'l' its LastSeen (Unix ms), 'n' the number of clients, and one field per
// client, "c:" + the entry's JSON, holding its position. A user's sessions
// are indexed in a sorted set of ids scored by expiry under the user's own
// tag, like the families of a subject.

// createSession: KEYS = session; ARGV = json, expiry ms, now ms, last seen
// ms, client fields... Returns 0 when a live session holds the id.
var createSession = goredis.NewScript(`
local x = redis.call('HGET', KEYS[1], 'x')
if x and tonumber(x) > tonumber(ARGV[3]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'x', ARGV[2], 'l', ARGV[4], 'n', tostring(#ARGV - 4))
for i = 5, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], tostring(i - 5)) end
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1`)

// addSessionClient: KEYS = session; ARGV = client field, seen ms, now ms,
// bound. Returns 1 when added or present, 0 when no live session, -1 when
// full.
var addSessionClient = goredis.NewScript(`
local x = redis.call('HGET', KEYS[1], 'x')
if not x or tonumber(x) <= tonumber(ARGV[3]) then return 0 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
  if n >= tonumber(ARGV[4]) then return -1 end
  redis.call('HSET', KEYS[1], ARGV[1], tostring(n), 'n', tostring(n + 1))
end
local l = redis.call('HGET', KEYS[1], 'l')
if not l or tonumber(ARGV[2]) > tonumber(l) then redis.call('HSET', KEYS[1], 'l', ARGV[2]) end
return 1`)

// takeSession: KEYS = session; ARGV = now ms. Returns the live session's
// fields and deletes it, or false.
var takeSession = goredis.NewScript(`
local x = redis.call('HGET', KEYS[1], 'x')
if not x or tonumber(x) <= tonumber(ARGV[1]) then return false end
local all = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return all`)

// indexSession: KEYS = user index; ARGV = session id, expiry ms.
var indexSession = goredis.NewScript(`
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1`)

const sessionClientField = "c:"

func (s *Store) sessionKey(id string) string        { return s.ownTag("sess", id) }
func (s *Store) userSessionsKey(user string) string { return s.ownTag("usess", user) }

// CreateSession implements storage.Sessions: the user's index first, so
// that no stored session is missing from it, then one script.
func (s *Store) CreateSession(ctx context.Context, sess *storage.OPSession) error {
	if err := storage.ValidSession(sess); err != nil {
		return err
	}
	rec := *sess
	rec.Clients = nil
	d, err := encode(&rec)
	if err != nil {
		return err
	}
	args := []any{d, pxat(sess.ExpiresAt), s.nowArg(), pxat(sess.LastSeen)}
	seen := map[storage.SessionClient]bool{}
	for _, c := range sess.Clients {
		if !seen[c] {
			seen[c] = true
			f, err := encode(c)
			if err != nil {
				return err
			}
			args = append(args, sessionClientField+f)
		}
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	if err := indexSession.Run(ctx, s.rdb, []string{s.userSessionsKey(sess.UserID)}, sess.ID, pxat(sess.ExpiresAt)).Err(); err != nil {
		return unavailable(err)
	}
	n, err := createSession.Run(ctx, s.rdb, []string{s.sessionKey(sess.ID)}, args...).Int64()
	if err != nil {
		return unavailable(err)
	}
	if n == 0 {
		return storage.ErrDuplicate
	}
	return nil
}

// GetSession implements storage.Sessions.
func (s *Store) GetSession(ctx context.Context, id string) (*storage.OPSession, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	h, err := s.rdb.HGetAll(ctx, s.sessionKey(id)).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	return s.decodeSession(h)
}

// AddSessionClient implements storage.Sessions: one script.
func (s *Store) AddSessionClient(ctx context.Context, id string, c storage.SessionClient, seen time.Time) error {
	if c.ClientID == "" {
		return storage.ErrInvalid
	}
	f, err := encode(c)
	if err != nil {
		return err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	n, err := addSessionClient.Run(ctx, s.rdb, []string{s.sessionKey(id)}, sessionClientField+f, pxat(seen), s.nowArg(), storage.MaxSessionClients).Int64()
	switch {
	case err != nil:
		return unavailable(err)
	case n == 0:
		return storage.ErrNotFound
	case n < 0:
		return storage.ErrTooMany
	}
	return nil
}

// ListSessions implements storage.Sessions: the user's index (expired
// entries dropped first), then its sessions in one pipeline.
func (s *Store) ListSessions(ctx context.Context, userID string) ([]*storage.OPSession, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	key := s.userSessionsKey(userID)
	if err := s.rdb.ZRemRangeByScore(ctx, key, "-inf", strconv.FormatInt(s.nowArg(), 10)).Err(); err != nil {
		return nil, unavailable(err)
	}
	ids, err := s.rdb.ZRange(ctx, key, 0, int64(storage.MaxSessionsPerUser)).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	cmds := make([]*goredis.MapStringStringCmd, len(ids))
	if len(ids) > 0 {
		if _, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = p.HGetAll(ctx, s.sessionKey(id))
			}
			return nil
		}); err != nil {
			return nil, unavailable(err)
		}
	}
	var out []*storage.OPSession
	for _, c := range cmds {
		sess, err := s.decodeSession(c.Val())
		if err == storage.ErrNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(out) == storage.MaxSessionsPerUser {
			return nil, storage.ErrTooMany
		}
		out = append(out, sess)
	}
	return out, nil
}

// DeleteSession implements storage.Sessions: one script takes the
// session; its index entry is removed after (a stale entry is skipped by
// ListSessions and dropped at its expiry).
func (s *Store) DeleteSession(ctx context.Context, id string) (*storage.OPSession, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	vals, err := takeSession.Run(ctx, s.rdb, []string{s.sessionKey(id)}, s.nowArg()).StringSlice()
	if err == goredis.Nil {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err)
	}
	h := make(map[string]string, len(vals)/2)
	for i := 0; i+1 < len(vals); i += 2 {
		h[vals[i]] = vals[i+1]
	}
	sess, err := s.decodeSession(h)
	if err != nil {
		return nil, err
	}
	if err := s.rdb.ZRem(ctx, s.userSessionsKey(sess.UserID), id).Err(); err != nil {
		return nil, unavailable(err)
	}
	return sess, nil
}

// decodeSession reads a session hash; ErrNotFound when empty or expired.
func (s *Store) decodeSession(h map[string]string) (*storage.OPSession, error) {
	d, ok := h["d"]
	if !ok {
		return nil, storage.ErrNotFound
	}
	sess, err := decode[storage.OPSession](d)
	if err != nil {
		return nil, err
	}
	if err := s.live(sess.ExpiresAt); err != nil {
		return nil, err
	}
	if l, err := strconv.ParseInt(h["l"], 10, 64); err == nil {
		sess.LastSeen = time.UnixMilli(l).UTC()
	}
	type entry struct {
		pos int
		c   storage.SessionClient
	}
	var entries []entry
	for k, v := range h {
		f, ok := strings.CutPrefix(k, sessionClientField)
		if !ok {
			continue
		}
		c, err := decode[storage.SessionClient](f)
		if err != nil {
			return nil, err
		}
		pos, _ := strconv.Atoi(v)
		entries = append(entries, entry{pos, *c})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].pos < entries[j].pos })
	for _, e := range entries {
		sess.Clients = append(sess.Clients, e.c)
	}
	return sess, nil
}
