package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/scopekit/scopekit/storage"
)

// Revocations are pushed by polling, on every MongoDB-wire server (change
// streams need a replica set, and FerretDB has none): RevokeToken and
// RevokeFamily date each revocation (fieldRevokedAt, on the writer's clock)
// in the write that stores it, so no revocation is stored undated, and a
// subscription asks, every RevocationPollInterval, for the tenant's
// revocations dated since its previous poll began, less
// RevocationPollOverlap. See docs/MONGODB.md.

var _ storage.RevocationWatcher = (*Store)(nil)

// fieldRevokedAt dates a revoked jti's document (revocations) and a family's
// revocation claim (claims).
const fieldRevokedAt = "revoked_at"

const (
	defaultRevocationPollInterval = 50 * time.Millisecond
	// revocationClockSkew is the skew between processes' clocks the
	// default overlap allows for, on top of the operation timeout.
	revocationClockSkew    = time.Second
	defaultRevocationLimit = 10_000
	// maxRevocationPollTimeout bounds one poll (and the store's Timeout,
	// when shorter, does): a poll slower than that ends the subscription,
	// so servers stop trusting a feed that has stopped moving.
	maxRevocationPollTimeout = time.Second
)

// errTooManyRevocations ends a subscription whose poll found more than
// RevocationPollLimit documents.
var errTooManyRevocations = fmt.Errorf("%w: more revocations in one poll than RevocationPollLimit", storage.ErrUnavailable)

func (o *Options) withRevocationPollDefaults() {
	if o.RevocationPollInterval <= 0 {
		o.RevocationPollInterval = defaultRevocationPollInterval
	}
	if o.RevocationPollOverlap <= 0 {
		o.RevocationPollOverlap = o.Timeout + revocationClockSkew
	}
	if o.RevocationPollLimit <= 0 {
		o.RevocationPollLimit = defaultRevocationLimit
	}
}

// ensureRevokedAtIndexes indexes the revocations of both collections by
// tenant and date, for the polls.
func (s *Store) ensureRevokedAtIndexes(ctx context.Context) error {
	for _, c := range []*mongodriver.Collection{s.c.revocations, s.c.claims} {
		if _, err := c.Indexes().CreateOne(ctx, mongodriver.IndexModel{Keys: bson.D{{Key: "tenant", Value: 1}, {Key: fieldRevokedAt, Value: 1}}}); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// WatchRevocations implements storage.RevocationWatcher by polling, in a
// goroutine of its own, until ctx is done. It returns once a first poll
// has succeeded, and delivers what that poll found: every revocation of
// the tenant written after it returns is delivered, once (a revocation
// dated anew, as a family's is when its end is extended, is delivered
// again if its end moved). A poll that fails, takes longer than its
// timeout (the store's Timeout, at most one second) or finds more than
// RevocationPollLimit documents closes the channel: no window is skipped.
func (s *Store) WatchRevocations(ctx context.Context) (<-chan storage.RevocationNotice, error) {
	p := &revocationPoller{s: s, since: s.now().Add(-s.opts.RevocationPollOverlap), seen: map[string]seenRevocation{}}
	pending, err := p.poll(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan storage.RevocationNotice, 256)
	go func() {
		defer close(out)
		tick := time.NewTicker(s.opts.RevocationPollInterval)
		defer tick.Stop()
		for {
			for _, n := range pending {
				select {
				case out <- n:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if pending, err = p.poll(ctx); err != nil {
				return
			}
		}
	}()
	return out, nil
}

// revocationPoller is one subscription's state.
type revocationPoller struct {
	s *Store
	// since is where the next poll's window starts.
	since time.Time
	// seen holds what was delivered, by kind and id, while a poll may
	// return it again: entries dated before since are forgotten.
	seen map[string]seenRevocation
}

type seenRevocation struct{ revokedAt, until time.Time }

// revokedDoc is what a poll reads of a revocation document or claim; a
// family's claim has no jti.
type revokedDoc struct {
	JTI       string    `bson:"jti"`
	Family    string    `bson:"family"`
	ExpiresAt time.Time `bson:"expires_at"`
	RevokedAt time.Time `bson:"revoked_at"`
}

// poll reads the revocations dated since p.since and returns those not
// delivered before; its window then moves to its own start, less the
// overlap.
func (p *revocationPoller) poll(ctx context.Context) ([]storage.RevocationNotice, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := p.s
	start := s.now()
	pctx, cancel := context.WithTimeout(ctx, min(s.opts.Timeout, maxRevocationPollTimeout))
	defer cancel()
	if s.faultPoll != nil {
		if err := s.faultPoll(); err != nil {
			return nil, err
		}
	}
	var found []storage.RevocationNotice
	for _, c := range []*mongodriver.Collection{s.c.revocations, s.c.claims} {
		docs, err := s.revokedSince(pctx, c, p.since, start)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			if n, ok := p.fresh(d); ok {
				found = append(found, n)
			}
		}
	}
	p.moveTo(start.Add(-s.opts.RevocationPollOverlap))
	return found, nil
}

// moveTo starts the next window at since and forgets what only the
// windows before could return.
func (p *revocationPoller) moveTo(since time.Time) {
	p.since = since
	for k, e := range p.seen {
		if e.revokedAt.Before(since) {
			delete(p.seen, k)
		}
	}
}

// fresh records d and reports its notice unless it was delivered before
// with the same or a later end.
func (p *revocationPoller) fresh(d revokedDoc) (storage.RevocationNotice, bool) {
	n := storage.RevocationNotice{JTI: d.JTI, Family: d.Family, Until: d.ExpiresAt}
	key := "f" + storage.KeySep + d.Family
	if d.JTI != "" {
		key = "j" + storage.KeySep + storage.JoinKey(d.Family, d.JTI)
	} else if d.Family == "" {
		return n, false
	}
	prev, ok := p.seen[key]
	if d.RevokedAt.After(prev.revokedAt) {
		prev.revokedAt = d.RevokedAt
	}
	delivered := ok && !d.ExpiresAt.After(prev.until)
	if !delivered {
		prev.until = d.ExpiresAt
	}
	p.seen[key] = prev
	return n, !delivered
}

// revokedSince reads c's live revocations of the tenant dated since since:
// at most RevocationPollLimit, else errTooManyRevocations.
func (s *Store) revokedSince(ctx context.Context, c *mongodriver.Collection, since, now time.Time) ([]revokedDoc, error) {
	limit := s.opts.RevocationPollLimit
	cur, err := c.Find(ctx, bson.M{"tenant": s.tenant, fieldRevokedAt: bson.M{"$gte": since}, "expires_at": live(now)},
		options.Find().SetLimit(int64(limit)+1).
			SetProjection(bson.M{"_id": 0, "jti": 1, "family": 1, "expires_at": 1, fieldRevokedAt: 1}))
	if err != nil {
		return nil, mapErr(err)
	}
	var docs []revokedDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err)
	}
	if len(docs) > limit {
		return nil, errTooManyRevocations
	}
	return docs, nil
}
