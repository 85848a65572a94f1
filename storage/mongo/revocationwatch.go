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
// in the write that stores it, so no revocation is stored undated, and one
// poller per New (revocationhub.go) asks, every RevocationPollInterval, for
// every tenant's revocations dated since its previous poll began, less
// RevocationPollOverlap, and hands each to its tenant's subscribers. See
// docs/MONGODB.md.

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
	// when shorter, does): a poll slower than that ends every
	// subscription, so servers stop trusting a feed that has stopped
	// moving.
	maxRevocationPollTimeout = time.Second
)

// errTooManyRevocations ends the subscriptions of a poll that found more
// than RevocationPollLimit documents.
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
// date, for the polls, which read every tenant's.
func (s *Store) ensureRevokedAtIndexes(ctx context.Context) error {
	for _, c := range []*mongodriver.Collection{s.c.revocations, s.c.claims} {
		if _, err := c.Indexes().CreateOne(ctx, mongodriver.IndexModel{Keys: bson.D{{Key: fieldRevokedAt, Value: 1}}}); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// revocationPoller is the state of one run of a hub's poller.
type revocationPoller struct {
	// s is the store of the subscription that started the run: its
	// collections, options and clock.
	s *Store
	// fault, set by tests, fails the polls while it returns an error.
	fault func() error
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
	Tenant    string    `bson:"tenant"`
	JTI       string    `bson:"jti"`
	Family    string    `bson:"family"`
	ExpiresAt time.Time `bson:"expires_at"`
	RevokedAt time.Time `bson:"revoked_at"`
}

// tenantNotice is a notice and the (escaped) tenant it is for.
type tenantNotice struct {
	tenant string
	storage.RevocationNotice
}

// poll reads every tenant's revocations dated since p.since and returns
// those not delivered before; its window then moves to its own start, less
// the overlap.
func (p *revocationPoller) poll(ctx context.Context) ([]tenantNotice, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := p.s
	start := s.now()
	pctx, cancel := context.WithTimeout(ctx, min(s.opts.Timeout, maxRevocationPollTimeout))
	defer cancel()
	if p.fault != nil {
		if err := p.fault(); err != nil {
			return nil, err
		}
	}
	var found []tenantNotice
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
// with the same or a later end. Entries are keyed by tenant too: two
// tenants' revocations of one id are two revocations.
func (p *revocationPoller) fresh(d revokedDoc) (tenantNotice, bool) {
	n := tenantNotice{d.Tenant, storage.RevocationNotice{JTI: d.JTI, Family: d.Family, Until: d.ExpiresAt}}
	key := storage.JoinKey(d.Tenant, "f", d.Family)
	if d.JTI != "" {
		key = storage.JoinKey(d.Tenant, "j", d.Family, d.JTI)
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

// revokedSince reads c's live revocations of every tenant dated since
// since: at most RevocationPollLimit, else errTooManyRevocations.
func (s *Store) revokedSince(ctx context.Context, c *mongodriver.Collection, since, now time.Time) ([]revokedDoc, error) {
	limit := s.opts.RevocationPollLimit
	cur, err := c.Find(ctx, bson.M{fieldRevokedAt: bson.M{"$gte": since}, "expires_at": live(now)},
		options.Find().SetLimit(int64(limit)+1).
			SetProjection(bson.M{"_id": 0, "tenant": 1, "jti": 1, "family": 1, "expires_at": 1, fieldRevokedAt: 1}))
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
