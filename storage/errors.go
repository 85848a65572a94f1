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
	// ErrRevoked means the record belongs to a revoked token family.
	ErrRevoked = errors.New("storage: revoked")
	// ErrUnavailable wraps every failure of the backend itself (connection
	// refused, timeout, server error). Callers map it to 503.
	ErrUnavailable = errors.New("storage: backend unavailable")
	// ErrInvalid means the record given to a write is malformed (empty key,
	// missing expiry on a short-lived record).
	ErrInvalid = errors.New("storage: invalid record")
)
