package storage

import (
	"context"
	"errors"
)

// MaxRevise bounds the attempts of Revise when it keeps losing to
// concurrent writes of the same record.
const MaxRevise = 8

// Revise is a read-modify-write of one record that composes with concurrent
// writers: it reads the record key, applies change and updates the record
// at the revision it read. When another write came first (ErrConflict) it
// starts again from a fresh read, so change must be correct to re-apply to
// whatever is stored then (add a scope, drop a reference, never "set to
// what the caller saw"); after MaxRevise attempts the conflict is returned.
// With create not nil, a missing record is made by create, then changed and
// created; a concurrent creation is retried the same way. An edit that a
// person made from a copy they read must not use Revise: it is an Update at
// the revision they read, and a conflict goes back to them.
func Revise[T any](ctx context.Context, coll Collection[T], key string, create func() *T, change func(*T) error) error {
	for attempt := 1; ; attempt++ {
		rec, err := coll.Get(ctx, key)
		fresh := false
		if errors.Is(err, ErrNotFound) && create != nil {
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
		lost := errors.Is(err, ErrConflict) ||
			fresh && errors.Is(err, ErrDuplicate) ||
			!fresh && create != nil && errors.Is(err, ErrNotFound)
		if !lost || attempt == MaxRevise {
			return err
		}
	}
}
