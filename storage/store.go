package storage

import (
	"context"
	"time"
)

// Collection stores one kind of long-lived record by its Key. Records are
// copied in and out: a caller never shares memory with the store.
type Collection[T any] interface {
	// Create stores a new record; ErrDuplicate if its key exists.
	Create(ctx context.Context, rec *T) error
	// Get returns the record with the key; ErrNotFound if none.
	Get(ctx context.Context, key string) (*T, error)
	// Put creates or replaces the record.
	Put(ctx context.Context, rec *T) error
	// Update replaces an existing record; ErrNotFound if none.
	Update(ctx context.Context, rec *T) error
	// Delete removes the record; ErrNotFound if none.
	Delete(ctx context.Context, key string) error
	// List returns the records whose key starts with prefix ("" for all),
	// ordered by key.
	List(ctx context.Context, prefix string) ([]*T, error)
}

// Directory holds the long-lived records of a tenant. They never expire.
type Directory interface {
	APIs() Collection[API]
	Clients() Collection[Client]
	ClientGrants() Collection[ClientGrant]
	Users() Collection[User]
	Roles() Collection[Role]
	Groups() Collection[Group]
	Consents() Collection[Consent]
	Keys() Collection[SigningKey]

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
	// ConsumeCode atomically marks the code used and returns it. Of many
	// concurrent callers exactly one gets it with a nil error; a code used
	// before is returned with ErrAlreadyUsed; an unknown or expired one is
	// ErrNotFound.
	ConsumeCode(ctx context.Context, hash string) (*AuthCode, error)
}

// Families keeps token families and their refresh tokens.
type Families interface {
	// CreateFamily stores a family and, when first is not nil, its first
	// refresh token, atomically. ErrDuplicate if the family exists.
	CreateFamily(ctx context.Context, f *Family, first *RefreshToken) error
	// GetFamily returns a live family, revoked or not; ErrNotFound if absent
	// or expired.
	GetFamily(ctx context.Context, id string) (*Family, error)
	// GetRefresh returns a live refresh token of the family. ErrNotFound if
	// absent or expired, ErrRevoked if the family is revoked.
	GetRefresh(ctx context.Context, family, hash string) (*RefreshToken, error)
	// RotateRefresh atomically marks the token oldHash of the family used and
	// stores next in its place, and returns the old token. Of many concurrent
	// callers exactly one succeeds. A token used before is returned with
	// ErrAlreadyUsed and next is not stored; ErrRevoked if the family is
	// revoked; ErrNotFound if the token is absent or expired.
	RotateRefresh(ctx context.Context, family, oldHash string, next *RefreshToken) (*RefreshToken, error)
	// RevokeFamily marks the family revoked until it expires: its refresh
	// tokens stop working and TokenRevoked reports its access tokens revoked.
	// ErrNotFound if the family is absent or expired.
	RevokeFamily(ctx context.Context, id string) error
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

// Store is everything a driver provides.
type Store interface {
	Directory
	AuthRequests
	Codes
	Families
	Revocations
	// Tenant returns a view of the same backend scoped to the tenant id. The
	// default tenant is "". Records of one tenant are invisible to another.
	Tenant(id string) Store
}

// Expired reports whether a record with the given expiry is no longer live
// at now. A zero expiry never expires.
func Expired(expiresAt, now time.Time) bool {
	return !expiresAt.IsZero() && !now.Before(expiresAt)
}
