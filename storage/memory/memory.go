// Package memory is the in-process storage driver: maps behind one
// read-write mutex, deep copies in and out, expiry checked on every read and
// swept opportunistically on writes. It backs tests, examples and
// single-process deployments; its records do not survive a restart.
package memory

import (
	"sync"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// Store is a storage.Store in memory. The zero value is not usable: call New.
type Store struct {
	b  *backend
	id string // tenant
}

var _ storage.Store = (*Store)(nil)

type backend struct {
	mu      sync.RWMutex
	tenants map[string]*tenant
	now     func() time.Time
	writes  int // short-lived writes since the last sweep
	// tombstoneTTL is storage.FamilyTombstoneLifetime; tests shorten it.
	tombstoneTTL time.Duration
}

// tenant holds one tenant's records.
type tenant struct {
	apis     map[string]*storage.API
	clients  map[string]*storage.Client
	grants   map[string]*storage.ClientGrant
	users    map[string]*storage.User
	roles    map[string]*storage.Role
	groups   map[string]*storage.Group
	consents map[string]*storage.Consent
	keys     map[string]*storage.SigningKey

	requests map[string]*storage.AuthRequest
	codes    map[string]*storage.AuthCode
	families map[string]*familyEntry
	revoked  map[string]time.Time // jti -> expiry
	// tombstones are revocations of families that did not exist when
	// revoked: id -> expiry.
	tombstones map[string]time.Time
}

type familyEntry struct {
	f      *storage.Family
	tokens map[string]*storage.RefreshToken
}

func newTenant() *tenant {
	return &tenant{
		apis: map[string]*storage.API{}, clients: map[string]*storage.Client{},
		grants: map[string]*storage.ClientGrant{}, users: map[string]*storage.User{},
		roles: map[string]*storage.Role{}, groups: map[string]*storage.Group{},
		consents: map[string]*storage.Consent{}, keys: map[string]*storage.SigningKey{},
		requests: map[string]*storage.AuthRequest{}, codes: map[string]*storage.AuthCode{},
		families: map[string]*familyEntry{}, revoked: map[string]time.Time{},
		tombstones: map[string]time.Time{},
	}
}

// New returns an empty store of the default tenant "".
func New() *Store {
	return &Store{b: &backend{tenants: map[string]*tenant{}, now: time.Now, tombstoneTTL: storage.FamilyTombstoneLifetime}}
}

// Tenant implements storage.Store: a view of the same maps for tenant id.
func (s *Store) Tenant(id string) storage.Store { return &Store{b: s.b, id: id} }

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
	return collection[storage.API, *storage.API]{s, func(t *tenant) map[string]*storage.API { return t.apis }, cloneAPI}
}

// Clients implements storage.Directory.
func (s *Store) Clients() storage.Collection[storage.Client] {
	return collection[storage.Client, *storage.Client]{s, func(t *tenant) map[string]*storage.Client { return t.clients }, cloneClient}
}

// ClientGrants implements storage.Directory.
func (s *Store) ClientGrants() storage.Collection[storage.ClientGrant] {
	return collection[storage.ClientGrant, *storage.ClientGrant]{s, func(t *tenant) map[string]*storage.ClientGrant { return t.grants }, cloneClientGrant}
}

// Users implements storage.Directory.
func (s *Store) Users() storage.Collection[storage.User] {
	return collection[storage.User, *storage.User]{s, func(t *tenant) map[string]*storage.User { return t.users }, cloneUser}
}

// Roles implements storage.Directory.
func (s *Store) Roles() storage.Collection[storage.Role] {
	return collection[storage.Role, *storage.Role]{s, func(t *tenant) map[string]*storage.Role { return t.roles }, cloneRole}
}

// Groups implements storage.Directory.
func (s *Store) Groups() storage.Collection[storage.Group] {
	return collection[storage.Group, *storage.Group]{s, func(t *tenant) map[string]*storage.Group { return t.groups }, cloneGroup}
}

// Consents implements storage.Directory.
func (s *Store) Consents() storage.Collection[storage.Consent] {
	return collection[storage.Consent, *storage.Consent]{s, func(t *tenant) map[string]*storage.Consent { return t.consents }, cloneConsent}
}

// Keys implements storage.Directory.
func (s *Store) Keys() storage.Collection[storage.SigningKey] {
	return collection[storage.SigningKey, *storage.SigningKey]{s, func(t *tenant) map[string]*storage.SigningKey { return t.keys }, cloneKey}
}
