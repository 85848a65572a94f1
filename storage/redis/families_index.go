package redis

import (
	"context"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/storage"
)

// subjectKey is the index of a subject's families: a sorted set of family
// ids scored by the family's expiry in ms. It has its own hash tag, apart
// from the families' (one slot per subject).
func (s *Store) subjectKey(subject string) string { return s.ownTag("subfam", subject) }

// indexFamily: KEYS = subject index; ARGV = family id, family expiry ms.
// The index lives as long as the longest-lived family in it.
var indexFamily = goredis.NewScript(`
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1`)

// indexFamily adds the family to its subject's index. CreateFamily calls it
// before storing the family, so that no stored family is ever missing from
// the index. An id whose family was refused (a tombstone) stays until the
// expiry it would have had, skipped by ListFamilies: harmless and bounded.
func (s *Store) indexFamily(ctx context.Context, f *storage.Family) error {
	if err := indexFamily.Run(ctx, s.rdb, []string{s.subjectKey(f.Subject)}, f.ID, pxat(f.ExpiresAt)).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// ListFamilies implements storage.Families: the subject's index (entries of
// expired families dropped first, by their score: an entry whose family is
// still being created is never dropped), then its families in one pipeline.
func (s *Store) ListFamilies(ctx context.Context, subject string) ([]*storage.Family, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	key := s.subjectKey(subject)
	now := strconv.FormatInt(pxat(time.Now()), 10)
	if err := s.rdb.ZRemRangeByScore(ctx, key, "-inf", now).Err(); err != nil {
		return nil, unavailable(err)
	}
	members, err := s.rdb.ZRange(ctx, key, 0, -1).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	if len(members) == 0 {
		return nil, nil
	}
	cmds := make([]*goredis.SliceCmd, len(members))
	if _, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range members {
			cmds[i] = p.HMGet(ctx, s.famKey(id), "d", "r")
		}
		return nil
	}); err != nil {
		return nil, unavailable(err)
	}
	var out []*storage.Family
	for _, c := range cmds {
		vals := c.Val()
		d, ok := vals[0].(string)
		if !ok {
			// Refused by a tombstone, or not stored yet.
			continue
		}
		f, err := decode[storage.Family](d)
		if err != nil {
			return nil, err
		}
		if s.live(f.ExpiresAt) != nil {
			continue
		}
		f.Revoked = vals[1] == "1"
		out = append(out, f)
	}
	return out, nil
}
