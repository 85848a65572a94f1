package skotel

import (
	"context"

	"github.com/scopekit/scopekit/storage"
)

// collection wraps one storage.Collection of the directory; its calls are
// spans "storage.<Collection>.<Method>".
type collection[T any] struct {
	c    storage.Collection[T]
	in   *Instrumentation
	name string
}

var _ storage.Collection[storage.Client] = collection[storage.Client]{}

// Create implements storage.Collection in a span.
func (c collection[T]) Create(ctx context.Context, rec *T) error {
	return do0(ctx, c.in, c.name+".Create", func(ctx context.Context) error { return c.c.Create(ctx, rec) })
}

// Get implements storage.Collection in a span.
func (c collection[T]) Get(ctx context.Context, key string) (*T, error) {
	return do(ctx, c.in, c.name+".Get", func(ctx context.Context) (*T, error) { return c.c.Get(ctx, key) })
}

// Update implements storage.Collection in a span.
func (c collection[T]) Update(ctx context.Context, rec *T) error {
	return do0(ctx, c.in, c.name+".Update", func(ctx context.Context) error { return c.c.Update(ctx, rec) })
}

// Delete implements storage.Collection in a span.
func (c collection[T]) Delete(ctx context.Context, key string) error {
	return do0(ctx, c.in, c.name+".Delete", func(ctx context.Context) error { return c.c.Delete(ctx, key) })
}

// List implements storage.Collection in a span.
func (c collection[T]) List(ctx context.Context, q storage.ListQuery) (storage.Page[T], error) {
	return do(ctx, c.in, c.name+".List", func(ctx context.Context) (storage.Page[T], error) { return c.c.List(ctx, q) })
}
