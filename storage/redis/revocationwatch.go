package redis

import (
	"context"
	"errors"
	"net"
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

// announceRevocation publishes a revocation written to the store. A failed
// publish is logged: the revocation is stored, and servers that may have
// missed it see it at their next lookup only if their subscription broke
// too (go-redis reports a broken connection by closing it), so the
// failure is reported loudly.
func (s *Store) announceRevocation(ctx context.Context, kind byte, id string, until time.Time) {
	ctx, cancel := s.ctx(context.WithoutCancel(ctx))
	defer cancel()
	msg := string(kind) + " " + strconv.FormatInt(until.UnixMilli(), 10) + " " + id
	if err := s.rdb.Publish(ctx, s.revocationsChannel(), msg).Err(); err != nil {
		s.opts.Logger.Error("redis: could not announce a revocation; servers using revocation push may accept the token from their cache",
			"error", unavailable(err))
	}
}

// revocationPing is how long the revocation subscription may stay silent
// before it is pinged; a ping unanswered for as long again ends the
// subscription, so a connection lost without notice (a network partition)
// is reported within twice this time.
const revocationPing = time.Second

// WatchRevocations implements storage.RevocationWatcher with a
// subscription to the tenant's revocation channel on a connection of its
// own, held until ctx is done. It reads the subscription itself rather
// than through go-redis's Channel, which reconnects silently and drops
// messages when its buffer is full: here the first read error, or a ping
// left unanswered, closes the channel, so a subscriber never mistakes a
// gap for silence.
func (s *Store) WatchRevocations(ctx context.Context) (<-chan storage.RevocationNotice, error) {
	ps := s.rdb.Subscribe(ctx, s.revocationsChannel())
	rctx, cancel := s.ctx(ctx)
	_, err := ps.Receive(rctx) // the subscription's confirmation
	cancel()
	if err != nil {
		_ = ps.Close()
		return nil, unavailable(err)
	}
	out := make(chan storage.RevocationNotice, 256)
	go func() {
		defer close(out)
		defer ps.Close()
		pinged := false
		for ctx.Err() == nil {
			msg, err := ps.ReceiveTimeout(ctx, revocationPing)
			var nerr net.Error
			switch {
			case errors.As(err, &nerr) && nerr.Timeout() && !pinged:
				if ps.Ping(ctx) != nil {
					return
				}
				pinged = true
				continue
			case err != nil:
				return // lost, or a ping unanswered
			}
			pinged = false
			m, ok := msg.(*goredis.Message)
			if !ok {
				continue // a pong or a subscription confirmation
			}
			n, ok := parseRevocation(m)
			if !ok {
				continue
			}
			select {
			case out <- n:
			case <-ctx.Done():
				return
			}
		}
	}()
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
