package storage

import "errors"

var (
	// ErrNotFound means no live record has the key (absent or expired).
	ErrNotFound = errors.New("storage: not found")
	// ErrDuplicate means a record with the key already exists.
	ErrDuplicate = errors.New("storage: duplicate key")
	// ErrAlreadyUsed means a single-use record (authorization code, refresh
	// token) was consumed before; the record is returned alongside so the
	// caller can revoke what was issued from it (RFC 9700 §4.14, RFC 6749 §4.1.2).
	ErrAlreadyUsed = errors.New("storage: already used")
	// ErrRevoked means the record belongs to a revoked token family. It is
	// also what CreateFamily returns for a family id that RevokeFamily
	// revoked before the family was stored (a concurrent replay of the
	// authorization code that carries the id): callers treat it as
	// invalid_grant and hand out none of the tokens they prepared.
	ErrRevoked = errors.New("storage: revoked")
	// ErrUnavailable wraps every failure of the backend itself (connection
	// refused, timeout, server error). Callers map it to 503.
	ErrUnavailable = errors.New("storage: backend unavailable")
	// ErrCorrupt means a stored record could not be decoded (written by an
	// incompatible version, or altered outside the store). The error says
	// which kind of record, never the backend's own message. Callers map it
	// to 500.
	ErrCorrupt = errors.New("storage: corrupt record")
	// ErrConflict means an Update named a revision that is no longer the
	// stored one: another write came first, and nothing was written.
	ErrConflict = errors.New("storage: revision conflict")
	// ErrInvalid means the record given to a write is malformed (empty key,
	// missing expiry on a short-lived record), or a listing's query is (a
	// cursor the driver did not make, a negative page size).
	ErrInvalid = errors.New("storage: invalid record")
	// ErrTooMany means All found more records than it returns (MaxAll).
	ErrTooMany = errors.New("storage: too many records")
)

// Errors of device codes (RFC 8628 §3.5).
var (
	// ErrExpired means a device code is past its lifetime but still kept:
	// the poll is answered expired_token.
	ErrExpired = errors.New("storage: expired")
	// ErrSlowDown means a poll came before the interval had passed: the
	// interval grew by DeviceSlowDown (slow_down).
	ErrSlowDown = errors.New("storage: polled too soon")
)
