package resource

import "context"

// RevocationFeed is a RevocationChecker that also holds the revocations
// pushed to this process since its subscription began, so that a token
// checked against the store before (a cache hit) is checked locally, with
// no call. An epoch names one unbroken subscription: a cached token is
// judged locally only when its store lookup ran within the current epoch,
// whose pushes then cover every revocation written after that lookup. While
// the feed has no subscription (Epoch 0) every check asks the store.
type RevocationFeed interface {
	RevocationChecker
	// Epoch returns the current subscription's epoch, 0 while there is none.
	Epoch() uint64
	// Pushed reports whether the revocation of the token jti, or of the
	// family when not empty, was pushed within the given epoch; ok is false
	// when the epoch is no longer the current one (the caller then asks
	// the store).
	Pushed(epoch uint64, family, jti string) (revoked, ok bool)
}

// feedEpoch returns the current epoch of the authorizer's RevocationFeed,
// 0 without one. It is read before a store lookup, so that the lookup is
// covered by the epoch's pushes.
func (a *Authorizer) feedEpoch() uint64 {
	if f, ok := a.revocations.(RevocationFeed); ok {
		return f.Epoch()
	}
	return 0
}

// checkCachedRevoked checks a cached token: locally when the feed's
// current epoch covers the entry's lookup, else by a store lookup, after
// which the entry is remembered under the epoch read before it.
func (a *Authorizer) checkCachedRevoked(ctx context.Context, raw string, e *cacheEntry) error {
	if f, ok := a.revocations.(RevocationFeed); ok && e.epoch != 0 {
		revoked, current := f.Pushed(e.epoch, FamilyOf(e.jti), e.jti)
		if revoked {
			a.cache.Forget(raw)
			return errRevoked()
		}
		if current {
			return nil
		}
	}
	epoch := a.feedEpoch()
	if err := a.checkRevoked(ctx, e.jti); err != nil {
		return err
	}
	if epoch != 0 && epoch != e.epoch {
		a.cache.put(raw, e.kid, e.p, epoch)
	}
	return nil
}
