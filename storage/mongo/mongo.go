// Package mongo is the storage driver for a host whose issuer keeps its
// state in MongoDB, over the official driver go.mongodb.org/mongo-driver
// (v1). It needs no multi-document transaction,
// and it does not rely on find-and-modify or on the counts of conditional
// updates and deletes being atomic either (on FerretDB they are not): every
// single-use operation of the contract is decided by inserting a claim
// document whose id is unique, so of concurrent callers the server's unique
// index lets exactly one win, and the claim carries what the operation
// decided, so nothing is half-written if a later step fails. It runs on a
// standalone server, a replica set or a sharded cluster, and on
// MongoDB-compatible servers such as FerretDB.
//
// New does no I/O: call Store.EnsureIndexes once at start. See
// docs/MONGODB.md. A runnable example, which go test runs against an
// embedded MongoDB-wire server, is integration/mongo/example_test.go.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"go.mongodb.org/mongo-driver/bson/bsoncodec"
	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"

	"github.com/scopekit/scopekit/storage"
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// CollectionPrefix starts every collection name. Empty means "scopekit_".
	CollectionPrefix string
	// Tenant is the tenant of the store; Store.Tenant gives views of others.
	// Any string is a valid tenant id; it is escaped in document ids.
	Tenant string
	// WriteConcern applies to every write. Nil means majority, so that an
	// acknowledged revocation survives a failover.
	WriteConcern *writeconcern.WriteConcern
	// Timeout bounds each operation when the context has no earlier
	// deadline. Zero means 5 seconds.
	Timeout time.Duration
	// Now is the clock every expiry is judged by (Store.WithClock gives
	// views on another). Nil means time.Now. TTL indexes only collect
	// garbage.
	Now func() time.Time
	// RevocationPollInterval is how often the poller behind
	// Store.WatchRevocations asks for new revocations: one poller for the
	// store New returns and all its views, whatever their tenant. Zero
	// means 50 ms.
	RevocationPollInterval time.Duration
	// RevocationPollOverlap is how far back each poll reads before the
	// previous poll began: it must cover the time between a writer reading
	// its clock and its write committing, plus the clock skew between
	// processes. Zero means Timeout plus one second (docs/MONGODB.md).
	RevocationPollOverlap time.Duration
	// RevocationPollLimit caps the documents a poll reads from each of its
	// two collections, counting every tenant's (one poll serves them all);
	// a poll that finds more ends every subscription, and servers ask the
	// store until they subscribe again. Zero means 10 000.
	RevocationPollLimit int
}

// Store is a storage.Store on MongoDB. The caller owns the client.
type Store struct {
	db     *mongodriver.Database
	opts   Options
	tenant string // escaped: never holds storage.KeySep
	c      collections
	// tombstoneTTL is storage.FamilyTombstoneLifetime; tests shorten it.
	tombstoneTTL time.Duration
	// faultAfterClaim, set by tests, makes the write after a claim fail.
	faultAfterClaim func(kind string) error
	// hub is the revocation poller this store and its views share
	// (revocationhub.go).
	hub *revocationHub
}

type collections struct {
	apis, clients, grants, users, roles, groups, consents, keys, tenants *mongodriver.Collection
	requests, codes, families, revocations, claims, audit, devices       *mongodriver.Collection
	sessions, sessionClients                                             *mongodriver.Collection
}

var _ storage.Store = (*Store)(nil)

// New returns a store over db. It does no I/O: call EnsureIndexes.
func New(db *mongodriver.Database, opts *Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("mongo: nil database")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.CollectionPrefix == "" {
		o.CollectionPrefix = "scopekit_"
	}
	if o.WriteConcern == nil {
		o.WriteConcern = writeconcern.Majority()
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	o.Now = storage.ClockOrDefault(o.Now)
	o.withRevocationPollDefaults()
	copts := options.Collection().SetWriteConcern(o.WriteConcern)
	coll := func(name string) *mongodriver.Collection { return db.Collection(o.CollectionPrefix+name, copts) }
	s := &Store{db: db, opts: o, tenant: escapeTenant(o.Tenant), tombstoneTTL: storage.FamilyTombstoneLifetime, hub: newRevocationHub(), c: collections{
		apis: coll("apis"), clients: coll("clients"), grants: coll("client_grants"), users: coll("users"),
		roles: coll("roles"), groups: coll("groups"), consents: coll("consents"), keys: coll("signing_keys"), tenants: coll("tenants"),
		requests: coll("auth_requests"), codes: coll("codes"), families: coll("families"), revocations: coll("revocations"),
		claims: coll("claims"), audit: coll("audit"), devices: coll("device_codes"),
		sessions: coll("sessions"), sessionClients: coll("session_clients"),
	}}
	return s, nil
}

// Tenant implements storage.Store.
func (s *Store) Tenant(id string) storage.Store {
	c := *s
	c.tenant = escapeTenant(id)
	return &c
}

// WithClock implements storage.Store: a view of the same collections
// judging expiries by now.
func (s *Store) WithClock(now func() time.Time) storage.Store {
	c := *s
	c.opts.Now = storage.ClockOrDefault(now)
	return &c
}

// now is the store's clock.
func (s *Store) now() time.Time { return s.opts.Now() }

// escapeTenant makes a tenant id safe to start document ids with: the
// escaped form never holds storage.KeySep, and distinct ids stay distinct
// ("a\x1fb" and "ab" do not meet).
func escapeTenant(id string) string { return url.QueryEscape(id) }

// id is the document id of a record: tenant, separator, key.
func (s *Store) id(key string) string { return s.tenant + storage.KeySep + key }

// ctx checks ctx and applies the store's timeout.
func (s *Store) ctx(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.opts.Timeout {
		return ctx, func() {}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	return ctx, cancel, nil
}

// mapErr turns driver errors into the contract's: no documents is
// ErrNotFound, a duplicate key ErrDuplicate, a record that does not encode
// ErrInvalid, anything else of the backend ErrUnavailable with a fixed text:
// the driver's error (addresses, socket messages) never reaches a caller's
// logs or responses.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongodriver.ErrNoDocuments):
		return storage.ErrNotFound
	case mongodriver.IsDuplicateKeyError(err):
		return storage.ErrDuplicate
	// Of the driver's error only the context's sentinel is kept: the
	// driver's own text names servers and sockets.
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: mongodb call canceled: %w", storage.ErrUnavailable, context.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: mongodb did not answer in time: %w", storage.ErrUnavailable, context.DeadlineExceeded)
	case mongodriver.IsNetworkError(err) || mongodriver.IsTimeout(err):
		return fmt.Errorf("%w: mongodb connection failed", storage.ErrUnavailable)
	}
	// mongo-driver v1 still returns ErrNoEncoder for a type it cannot
	// encode; its deprecation is for v2.
	var noEnc bsoncodec.ErrNoEncoder //lint:ignore SA1019 returned by mongo-driver v1
	var encErr bsoncodec.ValueEncoderError
	var me mongodriver.MarshalError
	if errors.As(err, &me) || errors.As(err, &noEnc) || errors.As(err, &encErr) {
		// A record holding a value BSON has no form for (a func in a
		// claims map): the caller's record, not the backend, is at fault.
		return fmt.Errorf("%w: the record does not serialise to BSON", storage.ErrInvalid)
	}
	var se mongodriver.ServerError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: mongodb server error", storage.ErrUnavailable)
	}
	return fmt.Errorf("%w: mongodb operation failed", storage.ErrUnavailable)
}

// findOne reads one document into d: ErrNotFound when none matches, the
// backend's failures through mapErr, and a document that does not decode
// as ErrCorrupt (the decoder's message, which quotes stored data, is not
// passed on).
func (s *Store) findOne(ctx context.Context, c *mongodriver.Collection, filter any, d any, opts ...*options.FindOneOptions) error {
	res := c.FindOne(ctx, filter, opts...)
	if err := res.Err(); err != nil {
		return mapErr(err)
	}
	if err := res.Decode(d); err != nil {
		return corrupt(c)
	}
	return nil
}

// corrupt is the error for an undecodable document of collection c.
func corrupt(c *mongodriver.Collection) error {
	return fmt.Errorf("%w: mongodb collection %s", storage.ErrCorrupt, c.Name())
}
