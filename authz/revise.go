package authz

import (
	"context"

	"github.com/scopekit/scopekit/storage"
)

// maxRevise bounds the attempts of a read-modify-write that keeps losing to
// concurrent writes of the same record (storage.MaxRevise).
const maxRevise = storage.MaxRevise

// revise is storage.Revise: a read-modify-write at the revision read,
// retried from a fresh read on storage.ErrConflict.
func revise[T any](ctx context.Context, coll storage.Collection[T], key string, create func() *T, change func(*T) error) error {
	return storage.Revise(ctx, coll, key, create, change)
}
