package storage

import (
	"context"
	"time"
)

// RevocationWatcher is implemented by stores that push every revocation
// (Revocations.RevokeToken, Families.RevokeFamily), written through any
// store over the same backend, to every process that subscribes, so that a
// server can refuse a token it verified before without asking the store
// again. Redis pushes by pub/sub, MongoDB by polling (docs/MONGODB.md). The
// memory store, whose lookup costs no round trip, does not implement it, and
// servers over it ask the store on every check.
type RevocationWatcher interface {
	// WatchRevocations subscribes to the tenant's revocations and returns
	// once the subscription is active: every revocation written after it
	// returns is delivered. The channel is closed when ctx is done or the
	// subscription is lost; after a loss revocations may have been missed,
	// and the subscriber must not rely on what it received before.
	WatchRevocations(ctx context.Context) (<-chan RevocationNotice, error)
}

// RevocationNotice is one pushed revocation: of the access token JTI, or,
// when JTI is empty, of the token family Family.
type RevocationNotice struct {
	// JTI is the revoked access token's jti; empty for a family.
	JTI string
	// Family is the revoked family (or the token's family).
	Family string
	// Until is when the revocation stops mattering: the token's expiry, or
	// the end of the family's revocation record.
	Until time.Time
}
