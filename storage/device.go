package storage

import (
	"context"
	"time"
)

// DeviceStatus is where a device authorization stands (RFC 8628 §3.3).
type DeviceStatus string

// The states of a device authorization: pending until the user approves or
// denies it on the verification page, once.
const (
	// DevicePending: the user has not decided yet (authorization_pending).
	DevicePending DeviceStatus = "pending"
	// DeviceApproved: the user approved; the next poll takes the grant.
	DeviceApproved DeviceStatus = "approved"
	// DeviceDenied: the user denied (access_denied).
	DeviceDenied DeviceStatus = "denied"
)

// DeviceSlowDown is what each poll that comes before the interval has passed
// adds to the interval, for that poll and every later one (RFC 8628 §3.5).
const DeviceSlowDown = 5 * time.Second

// DeviceCode is a device authorization (RFC 8628 §3.2), keyed by the hash
// of its user code: the device code names its user code, so one record
// serves both the device polling and the user on the verification page.
// Neither code is stored in clear.
type DeviceCode struct {
	// UserCode is the hash (token.Hash) of the normalised user code: the key.
	UserCode string `json:"user_code" bson:"user_code"`
	// Hash is the hash of the device code.
	Hash string `json:"hash" bson:"hash"`
	// ClientID is the client that asked; only it may poll.
	ClientID string `json:"client_id" bson:"client_id"`
	// Audience is the API the tokens are for, empty for a sign-in only.
	Audience string `json:"audience,omitempty" bson:"audience,omitempty"`
	// RequestedScopes are the scopes the client asked for.
	RequestedScopes []string `json:"requested_scope,omitempty" bson:"requested_scope,omitempty"`
	// Status is pending, approved or denied.
	Status DeviceStatus `json:"status" bson:"status"`
	// Interval is the least time between two polls; each poll that comes
	// sooner adds DeviceSlowDown to it.
	Interval time.Duration `json:"interval" bson:"interval"`
	// LastPoll is the last poll, or the creation before the first.
	LastPoll time.Time `json:"last_poll" bson:"last_poll"`
	// Used is set once the approved grant was taken by a poll; what stays is
	// a marker (DeviceUsedMarker).
	Used bool `json:"used,omitempty" bson:"used,omitempty"`
	// ExpiresAt is the end of the device code's life (expires_in).
	ExpiresAt time.Time `json:"expires_at" bson:"expires_at"`
	// RetainUntil is how long the record is kept past ExpiresAt: an expired
	// code is answered expired_token, a used one ErrAlreadyUsed, until then.
	// Zero keeps it until ExpiresAt only.
	RetainUntil time.Time `json:"retain_until,omitempty" bson:"retain_until,omitempty"`

	// DeviceGrant is what the user decided; set with Status approved.
	DeviceGrant `bson:",inline"`
}

// DeviceGrant is what the verification page decided for a device code
// (DecideDeviceCode), handed to the poll that takes it.
type DeviceGrant struct {
	// Subject is the user who approved.
	Subject string `json:"sub,omitempty" bson:"sub,omitempty"`
	// Scopes are the scopes granted (after RBAC, consent and rules).
	Scopes []string `json:"scope,omitempty" bson:"scope,omitempty"`
	// AuthTime is when the user authenticated.
	AuthTime time.Time `json:"auth_time,omitzero" bson:"auth_time,omitempty"`
	// Family is the token family the tokens join.
	Family string `json:"family,omitempty" bson:"family,omitempty"`
	// IDTokenClaims are the custom ID-token claims decided by rules.
	IDTokenClaims map[string]any `json:"id_token_claims,omitempty" bson:"id_token_claims,omitempty"`
	// AccessTokenClaims are the custom access-token claims decided by rules.
	AccessTokenClaims map[string]any `json:"access_token_claims,omitempty" bson:"access_token_claims,omitempty"`
}

// DeviceCodes keeps device authorizations (RFC 8628) and counts the failed
// user-code lookups that bound guessing (§5.1).
type DeviceCodes interface {
	// CreateDeviceCode stores a pending device code until
	// DeviceKeptUntil. ErrDuplicate if a record with its user code is kept
	// (the caller draws another user code); ErrInvalid without key, hash,
	// client or expiry.
	CreateDeviceCode(ctx context.Context, d *DeviceCode) error
	// GetDeviceCode returns the live, unused device code of the user code
	// hash; ErrNotFound if absent, expired or used.
	GetDeviceCode(ctx context.Context, userCode string) (*DeviceCode, error)
	// DecideDeviceCode records the user's decision on a pending device code,
	// once: approved with g, or denied when g is nil. retainUntil extends
	// how long the record is kept (the lifetime of the tokens it will give:
	// a second take revokes them). ErrNotFound if absent, expired or used;
	// ErrAlreadyUsed if already decided. Of concurrent callers exactly one
	// succeeds.
	DecideDeviceCode(ctx context.Context, userCode string, g *DeviceGrant, retainUntil time.Time) error
	// PollDeviceCode is one poll of the client, atomically (DevicePoll):
	// it checks the device code hash and the client, enforces the interval
	// (ErrSlowDown, the interval grown), records the poll and, when the code
	// is approved, takes it: of concurrent polls exactly one gets the
	// approved record with a nil error, the others ErrAlreadyUsed with the
	// marker, or ErrSlowDown. A pending or denied record is returned with a
	// nil error. ErrNotFound for an unknown code, a wrong hash or another
	// client's code (nothing is recorded); ErrExpired past ExpiresAt.
	PollDeviceCode(ctx context.Context, userCode, hash, clientID string) (*DeviceCode, error)
	// CountAttempt records the attempt id under key for window and returns
	// how many attempts recorded under key are live, this one included.
	// Concurrent attempts each count every attempt recorded before them.
	CountAttempt(ctx context.Context, key, id string, window time.Duration) (int64, error)
	// ForgetAttempt removes the attempt id recorded under key; absent is
	// not an error.
	ForgetAttempt(ctx context.Context, key, id string) error
}

// DeviceKeptUntil is the instant up to which a driver keeps a device code:
// its ExpiresAt, or its RetainUntil when later.
func DeviceKeptUntil(d *DeviceCode) time.Time {
	if d.RetainUntil.After(d.ExpiresAt) {
		return d.RetainUntil
	}
	return d.ExpiresAt
}

// DeviceUsedMarker is what a driver keeps of a taken device code: enough
// to recognise a second take (and name its family), none of the grant's
// scopes or claims.
func DeviceUsedMarker(d *DeviceCode) *DeviceCode {
	return &DeviceCode{UserCode: d.UserCode, Hash: d.Hash, ClientID: d.ClientID, Status: DeviceApproved, Interval: d.Interval,
		LastPoll: d.LastPoll, Used: true, ExpiresAt: d.ExpiresAt, RetainUntil: d.RetainUntil,
		DeviceGrant: DeviceGrant{Family: d.Family}}
}

// ValidDeviceCode checks a record given to CreateDeviceCode.
func ValidDeviceCode(d *DeviceCode) error {
	if d == nil || d.UserCode == "" || d.Hash == "" || d.ClientID == "" || d.ExpiresAt.IsZero() || d.Interval <= 0 || d.Status != DevicePending || d.Used {
		return ErrInvalid
	}
	return nil
}

// DevicePoll is the decision of one poll at now on a kept record d (a
// driver applies it atomically): next is what to store (nil: nothing
// changes), out what PollDeviceCode returns with err.
func DevicePoll(d *DeviceCode, hash, clientID string, now time.Time) (next, out *DeviceCode, err error) {
	if d == nil || d.Hash != hash || d.ClientID != clientID || Expired(DeviceKeptUntil(d), now) {
		return nil, nil, ErrNotFound
	}
	if d.Used {
		return nil, DeviceUsedMarker(d), ErrAlreadyUsed
	}
	if Expired(d.ExpiresAt, now) {
		return nil, nil, ErrExpired
	}
	n := *d
	if now.Before(d.LastPoll.Add(d.Interval)) {
		n.Interval += DeviceSlowDown
		n.LastPoll = now
		return &n, &n, ErrSlowDown
	}
	n.LastPoll = now
	if d.Status != DeviceApproved {
		return &n, &n, nil
	}
	n.Used = true
	return DeviceUsedMarker(&n), &n, nil
}

// DeviceDecide is the decision of DecideDeviceCode at now on a kept record
// d: the record to store, or the error.
func DeviceDecide(d *DeviceCode, g *DeviceGrant, retainUntil, now time.Time) (*DeviceCode, error) {
	if d == nil || d.Used || Expired(d.ExpiresAt, now) {
		return nil, ErrNotFound
	}
	if d.Status != DevicePending {
		return nil, ErrAlreadyUsed
	}
	n := *d
	n.Status = DeviceDenied
	if g != nil {
		n.Status, n.DeviceGrant = DeviceApproved, *g
	}
	if retainUntil.After(n.RetainUntil) {
		n.RetainUntil = retainUntil
	}
	return &n, nil
}
