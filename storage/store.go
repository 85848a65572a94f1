package storage

import (
	"context"
	"time"
)

// Collection stores one kind of long-lived record by its Key. Records are
// copied in and out: a caller never shares memory with the store.
//
// Writes are optimistic (see Revisioned): a caller reads a record, changes
// it and updates it naming the revision it read, and retries from a fresh
// read (or gives up) on ErrConflict. There is no blind create-or-replace: it
// would undo a concurrent write. Delete is unconditional: a deleted record
// cannot be restored by a stale copy, whose Update fails with ErrNotFound.
type Collection[T any] interface {
	// Create stores a new record with a first revision, set in rec;
	// ErrDuplicate if its key exists.
	Create(ctx context.Context, rec *T) error
	// Get returns the record with the key, with its stored revision;
	// ErrNotFound if none.
	Get(ctx context.Context, key string) (*T, error)
	// Update replaces an existing record if rec's revision is the stored
	// one, and sets rec's revision to the new one. ErrNotFound if none;
	// ErrConflict if the stored revision differs (nothing is written). Of
	// concurrent updates of one revision exactly one succeeds.
	Update(ctx context.Context, rec *T) error
	// Delete removes the record, whatever its revision; ErrNotFound if none.
	Delete(ctx context.Context, key string) error
	// List returns one page of the records whose key starts with q.Prefix,
	// in key order, with their revisions (see ListQuery and Page). Serving
	// a page reads that page, never the whole collection; a malformed query
	// or cursor is ErrInvalid. All reads every page.
	List(ctx context.Context, q ListQuery) (Page[T], error)
}

// Directory holds the long-lived records of a tenant. They never expire.
//
// Besides the collections it answers the lookups a management API needs
// (users by e-mail, members of a group, holders of a role), paged like
// Collection.List with cursors of the records' keys. Drivers keep them as
// secondary indexes written with the records, so a lookup reads one page
// of its index and never scans the directory, and agrees with the records
// after every Create, Update and Delete.
type Directory interface {
	// APIs are the resource servers, keyed by Identifier.
	APIs() Collection[API]
	// Clients are the registered applications, keyed by client id.
	Clients() Collection[Client]
	// ClientGrants say which scopes of which API a client may get without a
	// user, keyed by JoinKey(client id, audience).
	ClientGrants() Collection[ClientGrant]
	// Users are the people known to the issuer, keyed by user id.
	Users() Collection[User]
	// Roles are named sets of permissions, keyed by role id.
	Roles() Collection[Role]
	// Groups are sets of users sharing roles, keyed by group id.
	Groups() Collection[Group]
	// Consents are the scopes users granted clients, keyed by
	// JoinKey(user, client, audience).
	Consents() Collection[Consent]
	// Keys are the issuer's private signing keys, keyed by kid.
	Keys() Collection[SigningKey]

	// UsersByEmail returns a page of the users whose Email has the
	// EmailKey of email (compared case-insensitively), in user id order;
	// q.Prefix keeps the ids starting with it. ErrInvalid for an address
	// EmailKey does not index.
	UsersByEmail(ctx context.Context, email string, q ListQuery) (Page[User], error)
	// GroupMembers returns a page of the users whose Groups hold groupID,
	// in user id order.
	GroupMembers(ctx context.Context, groupID string, q ListQuery) (Page[User], error)
	// RoleUsers returns a page of the users whose own Roles hold roleID, in
	// user id order (not those who have it through a group: see
	// RoleGroups).
	RoleUsers(ctx context.Context, roleID string, q ListQuery) (Page[User], error)
	// RoleGroups returns a page of the groups whose Roles hold roleID, in
	// group id order.
	RoleGroups(ctx context.Context, roleID string, q ListQuery) (Page[Group], error)

	// Resolve reads the client, the API and their client grant in one
	// operation (one round trip where the backend allows). Missing records are
	// nil in the result; the error is only for backend failures.
	Resolve(ctx context.Context, clientID, audience string) (*Resolution, error)
}

// AuthRequests keeps pending authorization requests.
type AuthRequests interface {
	// CreateAuthRequest stores a request until its ExpiresAt.
	CreateAuthRequest(ctx context.Context, r *AuthRequest) error
	// GetAuthRequest returns a live request; ErrNotFound if absent or expired.
	GetAuthRequest(ctx context.Context, id string) (*AuthRequest, error)
	// TakeAuthRequest atomically returns and deletes a live request: of many
	// concurrent callers exactly one gets it, the others ErrNotFound.
	TakeAuthRequest(ctx context.Context, id string) (*AuthRequest, error)
}

// Codes keeps authorization codes.
type Codes interface {
	// CreateCode stores a code until its ExpiresAt; ErrDuplicate if its hash exists.
	CreateCode(ctx context.Context, c *AuthCode) error
	// ConsumeCode atomically marks the code used (UsedAt: the store's
	// clock) and returns it. Of many concurrent callers exactly one gets it
	// with a nil error; a code used before is returned with ErrAlreadyUsed
	// (its used marker, with UsedAt and Sealed); an unknown or expired one is
	// ErrNotFound.
	ConsumeCode(ctx context.Context, hash string) (*AuthCode, error)
}

// Families keeps token families and their refresh tokens.
type Families interface {
	// CreateFamily stores a family and, when first is not nil, its first
	// refresh token, atomically. ErrDuplicate if the family exists;
	// ErrRevoked if RevokeFamily was called for its id before (the family is
	// then refused, or, where the driver stored it in the same instant,
	// stored revoked: either way none of its tokens works).
	CreateFamily(ctx context.Context, f *Family, first *RefreshToken) error
	// GetFamily returns a live family, revoked or not; ErrNotFound if absent
	// or expired.
	GetFamily(ctx context.Context, id string) (*Family, error)
	// GetRefresh returns a live refresh token of the family. ErrNotFound if
	// absent or expired, ErrRevoked if the family is revoked.
	GetRefresh(ctx context.Context, family, hash string) (*RefreshToken, error)
	// RotateRefresh atomically marks the token oldHash of the family used,
	// recording on it the instant (RotatedAt, the store's clock) and its
	// successor (NextHash), stores next in its place, and returns the old
	// token. Of many concurrent callers exactly one succeeds. A token used
	// before is returned with ErrAlreadyUsed (with the RotatedAt and
	// NextHash of its rotation) and next is not stored; ErrRevoked if the
	// family is revoked; ErrNotFound if the token is absent or expired.
	// GetRefresh returns a used token with the same two fields.
	RotateRefresh(ctx context.Context, family, oldHash string, next *RefreshToken) (*RefreshToken, error)
	// RevokeFamily marks the family revoked until it expires: its refresh
	// tokens stop working and TokenRevoked reports its access tokens revoked.
	// When no live family has the id yet (a replayed authorization code can
	// be seen before the first exchange of the same code has stored its
	// family), the revocation is recorded all the same, as a tombstone that
	// lives FamilyTombstoneLifetime: CreateFamily of that id then fails with
	// ErrRevoked and TokenRevoked reports the family revoked. It never
	// returns ErrNotFound.
	RevokeFamily(ctx context.Context, id string) error
	// ListFamilies returns the live families of the subject, revoked or not,
	// in no particular order, so that a grant can be withdrawn from a user
	// (consent revoked, user deleted). Every family CreateFamily stored is
	// listed until it expires; a family CreateFamily refused is not listed,
	// or is listed revoked.
	ListFamilies(ctx context.Context, subject string) ([]*Family, error)
}

// Revocations keeps revoked access tokens.
type Revocations interface {
	// RevokeToken records the revocation until r.ExpiresAt. Revoking twice is
	// not an error.
	RevokeToken(ctx context.Context, r *Revocation) error
	// TokenRevoked reports whether the token jti, or its family when family
	// is not empty, has been revoked.
	TokenRevoked(ctx context.Context, family, jti string) (bool, error)
}

// FamilyTombstoneLifetime is how long RevokeFamily remembers the revocation
// of a family that does not exist (yet). A family id is handed out inside an
// authorization code, and the family is created by the exchange of that code,
// within the code's lifetime (a minute by default, at most ten minutes per
// RFC 6749 §4.1.2) plus the time of one request; a family refused by
// CreateFamily has no tokens at all. A day covers both with a wide margin,
// and the tombstone still expires, so no backend grows without bound.
const FamilyTombstoneLifetime = 24 * time.Hour

// Store is everything a driver provides.
type Store interface {
	// Directory holds the long-lived records.
	Directory
	// AuthRequests keeps pending authorization requests.
	AuthRequests
	// Codes keeps authorization codes.
	Codes
	// Families keeps token families and refresh tokens.
	Families
	// Revocations keeps revoked access tokens.
	Revocations
	// AuditLog keeps the tenant's audit log.
	AuditLog
	// Replay remembers single-use values (client assertion jtis).
	Replay
	// DeviceCodes keeps device authorizations (RFC 8628).
	DeviceCodes
	// Tenancy keeps tenant records and drops a tenant's data.
	Tenancy
	// OpaqueTokens keeps opaque access tokens.
	OpaqueTokens
	// Sessions keeps OP sessions (sign-ins at the issuer, for logout).
	Sessions
	// Tenant returns a view of the same backend scoped to the tenant id. The
	// default tenant is "". Records of one tenant are invisible to another.
	Tenant(id string) Store
	// WithClock returns a view of the same backend (and tenant) that judges
	// every expiry by now instead of the wall clock: the server hands the
	// store its own clock, so that a record expires at the same instant for
	// both. Backend TTLs remain garbage collection only; never the validity
	// check.
	WithClock(now func() time.Time) Store
}

// Expired reports whether a record with the given expiry is no longer live
// at now. A zero expiry never expires.
func Expired(expiresAt, now time.Time) bool {
	return !expiresAt.IsZero() && !now.Before(expiresAt)
}

// Live reports whether a record with the given expiry is still live at now:
// the negation of Expired.
func Live(expiresAt, now time.Time) bool { return !Expired(expiresAt, now) }

// CodeKeptUntil is the instant up to which a driver keeps a code: its
// ExpiresAt, or its RetainUntil when later (a consumed code is kept that
// long as a used marker, so that a late replay is still detected).
func CodeKeptUntil(c *AuthCode) time.Time {
	if c.RetainUntil.After(c.ExpiresAt) {
		return c.RetainUntil
	}
	return c.ExpiresAt
}

// CodeState is what ConsumeCode answers for a stored code at now: nil when
// it may be consumed (unused and live), ErrAlreadyUsed for a used code
// still kept (CodeKeptUntil), ErrNotFound otherwise. An unconsumed code
// past its ExpiresAt is ErrNotFound however long it would be retained.
func CodeState(c *AuthCode, now time.Time) error {
	switch {
	case c.Used && Live(CodeKeptUntil(c), now):
		return ErrAlreadyUsed
	case !c.Used && Live(c.ExpiresAt, now):
		return nil
	}
	return ErrNotFound
}

// UsedCodeMarker is what a driver keeps of a consumed code: enough to
// detect a replay and revoke the family (hash, client, family, used and
// the instants), none of the grant's scopes, claims or PKCE data in clear;
// the grant only as Sealed, which the store cannot read.
func UsedCodeMarker(c *AuthCode) *AuthCode {
	return &AuthCode{Hash: c.Hash, ClientID: c.ClientID, Family: c.Family, Used: true, ExpiresAt: c.ExpiresAt,
		RetainUntil: c.RetainUntil, Sealed: c.Sealed, UsedAt: c.UsedAt}
}

// ClockOrDefault returns now, or time.Now when now is nil.
func ClockOrDefault(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}
