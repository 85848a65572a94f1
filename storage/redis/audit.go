package redis

import (
	"context"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/storage"
)

// auditKey is the tenant's audit log, under the directory's tag: a sorted
// set of members "ID JSON", all scored 0, so that they order by ID (by
// time) lexicographically.
func (s *Store) auditKey() string { return s.dirTag + ":audit" }

// appendAudit: KEYS = the log; ARGV = member, keep, record expiry ms. It
// adds the member, drops the oldest beyond keep, and lets the key live as
// long as its longest-lived record (garbage collection of an idle
// tenant's log; expiry is judged on read).
var appendAudit = goredis.NewScript(`
redis.call('ZADD', KEYS[1], 0, ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[2]) + 1))
if redis.call('PEXPIRETIME', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
end
return 1`)

// AppendAudit implements storage.AuditLog in one script: add, cap, expire.
func (s *Store) AppendAudit(ctx context.Context, r *storage.AuditRecord, keep int) error {
	if err := storage.CheckAuditRecord(r, keep); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	r.ID = storage.AuditID(r.Time)
	v, err := encode(r)
	if err != nil {
		return err
	}
	if err := appendAudit.Run(ctx, s.rdb, []string{s.auditKey()}, r.ID+" "+v, keep, pxat(r.ExpiresAt)).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// ListAudit implements storage.AuditLog: batches of the log from the
// cursor down (ZRANGE BYLEX REV), the time window as lexicographic bounds,
// kinds and expiry filtered here.
func (s *Store) ListAudit(ctx context.Context, q storage.AuditQuery) (*storage.AuditPage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, err := storage.CheckAuditQuery(q)
	if err != nil {
		return nil, err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	hi, lo := "+", "-"
	if q.Before != "" {
		hi = "(" + q.Before
	}
	if !q.Until.IsZero() {
		if u := "(" + storage.AuditTimePrefix(q.Until); hi == "+" || u < hi {
			hi = u
		}
	}
	if !q.Since.IsZero() {
		lo = "[" + storage.AuditTimePrefix(q.Since)
	}
	now := s.now()
	page := &storage.AuditPage{}
	batch := int64(q.Limit + 1)
	for {
		members, err := s.rdb.ZRevRangeByLex(ctx, s.auditKey(), &goredis.ZRangeBy{Max: hi, Min: lo, Count: batch}).Result()
		if err != nil {
			return nil, unavailable(err)
		}
		for _, m := range members {
			id, v, _ := strings.Cut(m, " ")
			hi = "(" + id
			r, err := decode[storage.AuditRecord](v)
			if err != nil {
				return nil, err
			}
			if !storage.AuditMatches(r, q, now) {
				continue
			}
			if len(page.Records) == q.Limit {
				page.Next = page.Records[len(page.Records)-1].ID
				return page, nil
			}
			page.Records = append(page.Records, r)
		}
		if int64(len(members)) < batch {
			return page, nil
		}
	}
}
