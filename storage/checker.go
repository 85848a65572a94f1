package storage

import "context"

// Checker is implemented by stores that can tell whether their backend
// answers, for a readiness probe (authz.Server.Check): a Redis PING, a
// MongoDB ping of the primary. Check is cheap, reads no record, and fails
// with an error wrapping ErrUnavailable, without the backend's text. Stores
// that do not implement it are probed with a read of a missing record.
type Checker interface {
	// Check reports whether the backend answers within ctx.
	Check(ctx context.Context) error
}
