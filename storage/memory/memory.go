// Package memory is the storage driver for tests, examples and
// single-process deployments, kept in the process: maps behind one
// read-write mutex, deep copies in and out, expiry checked on every read
// against the store's clock (Clock, Store.WithClock) and swept on writes.
// Its records do not survive a restart.
//
// The sweep: every short-lived entry (pending request, code, family, access
// token revocation, family tombstone, single-use key) is scheduled on an
// expiry queue of its kind, a min-heap by instant, when it is written or its
// expiry moves later.
// Every 256 schedules in a tenant, a sweep pops, from each kind's queue, up
// to 1,024 entries whose instant has passed and deletes those still expired.
// No kind can starve another (each has its own queue and budget), a sweep
// examines only entries due, and as it can reclaim more of each kind than
// all the writes between two sweeps add, every expired entry is gone within
// a bounded number of sweeps. A sweep judges expiry by the clock of the
// view that wrote; views with different clocks over one backend should not
// be mixed.
package memory

import (
	"sync"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// Store is a storage.Store in memory. The zero value is not usable: call New.
type Store struct {
	b   *backend
	id  string           // tenant
	now func() time.Time // the clock expiries are judged by
}

var _ storage.Store = (*Store)(nil)

type backend struct {
	mu      sync.RWMutex
	tenants map[string]*tenant
	// tombstoneTTL is storage.FamilyTombstoneLifetime; tests shorten it.
	tombstoneTTL time.Duration
}

// tenant holds one tenant's records.
type tenant struct {
	apis     *table[storage.API]
	clients  *table[storage.Client]
	grants   *table[storage.ClientGrant]
	users    *table[storage.User]
	roles    *table[storage.Role]
	groups   *table[storage.Group]
	consents *table[storage.Consent]
	keys     *table[storage.SigningKey]
	tenants  *table[storage.Tenant]
	lookups  lookups

	requests map[string]*storage.AuthRequest
	codes    map[string]*storage.AuthCode
	families map[string]*familyEntry
	revoked  map[string]time.Time // jti -> expiry
	// tombstones are revocations of families that did not exist when
	// revoked: id -> expiry.
	tombstones map[string]time.Time
	// audit is the audit log, oldest first by ID (audit.go).
	audit []*storage.AuditRecord
	// used are the keys of Replay.UseOnce: key -> expiry.
	used map[string]time.Time
	// devices are the device codes by user-code hash; attempts the live
	// attempts by key, id -> expiry.
	devices  map[string]*storage.DeviceCode
	attempts map[string]map[string]time.Time
	// opaque are the opaque access tokens by hash.
	opaque map[string]*storage.OpaqueToken
	// sessions are the OP sessions by id; userSessions their ids by user.
	sessions     map[string]*storage.OPSession
	userSessions map[string]map[string]struct{}

	queues [kinds]expiryQueue // expiries to look at, by kind
	writes int                // schedules since the last sweep
}

// table is one collection of a tenant: the records by key, and their keys
// in order for listing.
type table[T any] struct {
	recs map[string]*T
	keys keyIndex
}

func newTable[T any]() *table[T] { return &table[T]{recs: map[string]*T{}} }

type familyEntry struct {
	f      *storage.Family
	tokens map[string]*storage.RefreshToken
}

func newTenant() *tenant {
	return &tenant{
		apis: newTable[storage.API](), clients: newTable[storage.Client](),
		grants: newTable[storage.ClientGrant](), users: newTable[storage.User](),
		roles: newTable[storage.Role](), groups: newTable[storage.Group](),
		consents: newTable[storage.Consent](), keys: newTable[storage.SigningKey](),
		tenants: newTable[storage.Tenant](), lookups: newLookups(),
		requests: map[string]*storage.AuthRequest{}, codes: map[string]*storage.AuthCode{},
		families: map[string]*familyEntry{}, revoked: map[string]time.Time{},
		tombstones: map[string]time.Time{}, used: map[string]time.Time{},
		devices: map[string]*storage.DeviceCode{}, attempts: map[string]map[string]time.Time{},
		opaque:   map[string]*storage.OpaqueToken{},
		sessions: map[string]*storage.OPSession{}, userSessions: map[string]map[string]struct{}{},
	}
}

// Option configures New.
type Option func(*Store)

// Clock makes the store judge expiries by now instead of time.Now.
func Clock(now func() time.Time) Option {
	return func(s *Store) { s.now = storage.ClockOrDefault(now) }
}

// New returns an empty store of the default tenant "".
func New(opts ...Option) *Store {
	s := &Store{b: &backend{tenants: map[string]*tenant{}, tombstoneTTL: storage.FamilyTombstoneLifetime}, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Tenant implements storage.Store: a view of the same maps for tenant id.
func (s *Store) Tenant(id string) storage.Store { return &Store{b: s.b, id: id, now: s.now} }

// WithClock implements storage.Store: a view of the same maps judging
// expiries by now.
func (s *Store) WithClock(now func() time.Time) storage.Store {
	return &Store{b: s.b, id: s.id, now: storage.ClockOrDefault(now)}
}

// tenant returns the tenant's data; with create it is made on first use.
// The caller holds the backend lock (the write lock when create is true).
func (s *Store) tenant(create bool) *tenant {
	t := s.b.tenants[s.id]
	if t == nil && create {
		t = newTenant()
		s.b.tenants[s.id] = t
	}
	return t
}

// APIs implements storage.Directory.
func (s *Store) APIs() storage.Collection[storage.API] {
	return collection[storage.API, *storage.API]{s: s, pick: func(t *tenant) *table[storage.API] { return t.apis }, clone: cloneAPI}
}

// Clients implements storage.Directory.
func (s *Store) Clients() storage.Collection[storage.Client] {
	return collection[storage.Client, *storage.Client]{s: s, pick: func(t *tenant) *table[storage.Client] { return t.clients }, clone: cloneClient}
}

// ClientGrants implements storage.Directory.
func (s *Store) ClientGrants() storage.Collection[storage.ClientGrant] {
	return collection[storage.ClientGrant, *storage.ClientGrant]{s: s, pick: func(t *tenant) *table[storage.ClientGrant] { return t.grants }, clone: cloneClientGrant}
}

// Users implements storage.Directory.
func (s *Store) Users() storage.Collection[storage.User] {
	return collection[storage.User, *storage.User]{s: s, pick: func(t *tenant) *table[storage.User] { return t.users }, clone: cloneUser, index: indexUser}
}

// Roles implements storage.Directory.
func (s *Store) Roles() storage.Collection[storage.Role] {
	return collection[storage.Role, *storage.Role]{s: s, pick: func(t *tenant) *table[storage.Role] { return t.roles }, clone: cloneRole}
}

// Groups implements storage.Directory.
func (s *Store) Groups() storage.Collection[storage.Group] {
	return collection[storage.Group, *storage.Group]{s: s, pick: func(t *tenant) *table[storage.Group] { return t.groups }, clone: cloneGroup, index: indexGroup}
}

// Consents implements storage.Directory.
func (s *Store) Consents() storage.Collection[storage.Consent] {
	return collection[storage.Consent, *storage.Consent]{s: s, pick: func(t *tenant) *table[storage.Consent] { return t.consents }, clone: cloneConsent}
}

// Keys implements storage.Directory.
func (s *Store) Keys() storage.Collection[storage.SigningKey] {
	return collection[storage.SigningKey, *storage.SigningKey]{s: s, pick: func(t *tenant) *table[storage.SigningKey] { return t.keys }, clone: cloneKey}
}
