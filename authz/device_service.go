package authz

import (
	"context"
	"errors"
	"net/http"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// Devices redeems the device codes of the device authorization endpoint
// (RFC 8628 §3.4).
type Devices interface {
	// Poll is one poll of the client for the device code, atomically: it
	// is recorded, and an approved code is taken once. An unknown code, or
	// another client's, is invalid_grant; a poll before the interval has
	// passed is slow_down (the interval grows by 5 s); a code the user has
	// not decided on is authorization_pending, one denied access_denied,
	// one past its lifetime expired_token. A code taken before is
	// invalid_grant: of concurrent polls exactly one gets tokens. The rules ran
	// on the verification page, with the user: the server does not run
	// them again for a decision from a polled code.
	Poll(ctx context.Context, client *storage.Client, deviceCode string) (*storage.DeviceCode, error)
}

// deviceService implements Devices for one exchange; a taken code marks
// the exchange as redeeming a decision made with the user.
type deviceService struct{ cs *codeService }

// Poll implements Devices.
func (ds deviceService) Poll(ctx context.Context, client *storage.Client, raw string) (*storage.DeviceCode, error) {
	store := ds.cs.s.store
	uc, ok := parseDeviceCode(raw)
	if !ok {
		return nil, oauth.ErrInvalidGrant.WithDescription("invalid device_code")
	}
	d, err := store.PollDeviceCode(ctx, userCodeKey(uc), token.Hash(raw), client.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, oauth.ErrInvalidGrant.WithDescription("invalid device_code")
	case errors.Is(err, storage.ErrAlreadyUsed):
		// Not revoked, unlike a replayed authorization code: the device
		// code never left the device, and a concurrent or retried poll of
		// that device would revoke the tokens it just got (or, arriving
		// before the winner's mint, leave it none).
		return nil, oauth.ErrInvalidGrant.WithDescription("the device code was already used")
	case errors.Is(err, storage.ErrExpired):
		return nil, oauth.ErrExpiredToken.WithDescription("the device code expired")
	case errors.Is(err, storage.ErrSlowDown):
		return nil, oauth.ErrSlowDown.WithDescription("polled too soon: the interval grew by 5 seconds")
	case err != nil:
		return nil, err
	}
	switch d.Status {
	case storage.DeviceApproved:
		ds.cs.redeemed = true
		return d, nil
	case storage.DeviceDenied:
		e := oauth.ErrAccessDenied.WithDescription("the user denied the request")
		e.Status = http.StatusBadRequest // a token error response (RFC 6749 §5.2)
		return nil, e
	}
	return nil, oauth.ErrAuthorizationPending.New()
}
