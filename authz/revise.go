package authz

import (
	"context"
	"errors"

	"github.com/scopekit/scopekit/storage"
)

// maxRevise bounds the attempts of a read-modify-write that keeps losing to
// concurrent writes of the same record.
const maxRevise = 8

// revise reads the record key, applies change and updates the record at the
// revision it read. When another write came first (storage.ErrConflict) it
// starts again from a fresh read, so change must be correct to re-apply to
// whatever is stored then; after maxRevise attempts the conflict is
// returned. With create not nil, a missing record is made by create, then
// changed and created; a concurrent creation is retried the same way.
func revise[T any](ctx context.Context, coll storage.Collection[T], key string, create func() *T, change func(*T) error) error {
	for attempt := 1; ; attempt++ {
		rec, err := coll.Get(ctx, key)
		fresh := false
		if errors.Is(err, storage.ErrNotFound) && create != nil {
			rec, fresh = create(), true
		} else if err != nil {
			return err
		}
		if err := change(rec); err != nil {
			return err
		}
		if fresh {
			err = coll.Create(ctx, rec)
		} else {
			err = coll.Update(ctx, rec)
		}
		lost := errors.Is(err, storage.ErrConflict) ||
			fresh && errors.Is(err, storage.ErrDuplicate) ||
			!fresh && create != nil && errors.Is(err, storage.ErrNotFound)
		if !lost || attempt == maxRevise {
			return err
		}
	}
}
