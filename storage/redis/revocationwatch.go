package redis

import (
	"context"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/storage"
)

var _ storage.RevocationWatcher = (*Store)(nil)

// revocationsChannel is the pub/sub channel on which every revocation of
// the tenant is announced, as "j <until ms> <jti>" or "f <until ms> <family>".
func (s *Store) revocationsChannel() string { return s.dirTag + ":revoked" }

// revocationMessage is the announcement of a revocation on
// revocationsChannel.
func revocationMessage(kind byte, id string, until time.Time) string {
	return string(kind) + " " + strconv.FormatInt(until.UnixMilli(), 10) + " " + id
}

// announceLua is what the scripts writing a revocation share to announce
// it: they check may_announce(channel, message) before they write, return
// denied when it fails, and PUBLISH after the write. So a revocation is
// stored and announced in one atomic step or not at all: no second command
// can fail (a timeout, a failover) after the write. may_announce asks
// whether the caller's ACL user may PUBLISH there (Redis 7 gives a new
// user no channel at all). Redis before 7.0 has no redis.acl_check_cmd:
// there a denied PUBLISH fails the script, and so the call, after the
// write. A channel is not a key: on Redis Cluster the script runs on the
// shard of its keys, and the cluster bus carries the message to the
// subscribers of every node.
const announceLua = `
local function may_announce(ch, msg)
  if redis.acl_check_cmd and not redis.acl_check_cmd('PUBLISH', ch, msg) then
    return false
  end
  return true
end
local denied = {err = 'NOPERM the Redis user may not publish on the revocations channel'}
`

// WatchRevocations implements storage.RevocationWatcher with a
// subscription to the tenant's revocation channel on the pub/sub
// connection that every store of one New shares (hub), held until ctx is
// done. The connection's loss, and a subscriber too slow to take what it is
// sent (256 revocations behind), close the channel: a revocation is never
// dropped silently, the subscriber falls back to lookups.
func (s *Store) WatchRevocations(ctx context.Context) (<-chan storage.RevocationNotice, error) {
	out := make(chan storage.RevocationNotice, 256)
	sub := &subscriber{
		channel: s.revocationsChannel(),
		deliver: func(m *goredis.Message) bool {
			n, ok := parseRevocation(m)
			if !ok {
				return true
			}
			select {
			case out <- n:
				return true
			default:
				return false
			}
		},
		close: func() { close(out) },
	}
	rctx, cancel := s.ctx(ctx)
	defer cancel()
	if err := s.hub.watch(ctx, rctx, sub); err != nil {
		return nil, err
	}
	return out, nil
}

// parseRevocation reads a message of revocationsChannel.
func parseRevocation(m *goredis.Message) (storage.RevocationNotice, bool) {
	kind, rest, ok := strings.Cut(m.Payload, " ")
	if !ok {
		return storage.RevocationNotice{}, false
	}
	ms, id, ok := strings.Cut(rest, " ")
	v, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" {
		return storage.RevocationNotice{}, false
	}
	n := storage.RevocationNotice{Until: time.UnixMilli(v)}
	switch kind {
	case "j":
		n.JTI = id
	case "f":
		n.Family = id
	default:
		return storage.RevocationNotice{}, false
	}
	return n, true
}
