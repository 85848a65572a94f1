package admin

import (
	"context"
	"errors"

	"github.com/scopekit/scopekit/storage"
)

// Bounds of one page.
const (
	// DefaultPageSize is the page size of a Query with no Limit.
	DefaultPageSize = storage.DefaultPageSize
	// MaxPageSize is the largest page a Query may ask for.
	MaxPageSize = storage.MaxPageSize
)

// Query asks for one page of a listing, in key order.
type Query struct {
	// After is the cursor of the previous page (Page.Next); empty for the
	// first page. It is opaque to callers.
	After string
	// Limit is the most items of the page: zero means DefaultPageSize, more
	// than MaxPageSize is refused.
	Limit int
}

// Page is one page of a listing.
type Page[T any] struct {
	// Items are the records of the page, in key order. The caller owns them.
	Items []*T `json:"items"`
	// Next is the cursor of the next page; empty on the last one.
	Next string `json:"next,omitempty"`
}

// record is a pointer to a stored record type.
type record[T any] interface {
	*T
	storage.Record
}

// list is the one place that reads a listing from the store: the records
// whose key starts with prefix, after the cursor q.After, at most q.Limit.
// Every listing and every cascade of the package goes through it.
func list[T any, P record[T]](ctx context.Context, coll storage.Collection[T], prefix string, q Query) (Page[T], error) {
	limit := q.Limit
	switch {
	case limit == 0:
		limit = DefaultPageSize
	case limit < 0 || limit > MaxPageSize:
		c := checker{kind: "query"}
		c.bad("limit", "must be between 1 and %d", MaxPageSize)
		return Page[T]{}, c.err()
	}
	page, err := coll.List(ctx, storage.ListQuery{Prefix: prefix, After: q.After, Limit: limit})
	if errors.Is(err, storage.ErrInvalid) {
		c := checker{kind: "query"}
		c.bad("after", "is not a cursor of this listing")
		return Page[T]{}, c.err()
	}
	if err != nil {
		return Page[T]{}, err
	}
	return Page[T]{Items: page.Items, Next: page.Next}, nil
}

// each calls fn for every record whose key starts with prefix, page by
// page through list; it stops at the first error.
func each[T any, P record[T]](ctx context.Context, coll storage.Collection[T], prefix string, fn func(*T) error) error {
	q := Query{Limit: MaxPageSize}
	for {
		page, err := list[T, P](ctx, coll, prefix, q)
		if err != nil {
			return err
		}
		for _, rec := range page.Items {
			if err := fn(rec); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		q.After = page.Next
	}
}

// revise applies change to the stored record key with storage.Revise, for
// the cascades: a record deleted meanwhile needs no change.
func revise[T any](ctx context.Context, coll storage.Collection[T], key string, change func(*T) error) error {
	err := storage.Revise(ctx, coll, key, nil, change)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

// errUnchanged ends a revise whose change found nothing to do.
var errUnchanged = errors.New("admin: unchanged")

// exists reports whether the record key is stored.
func exists[T any](ctx context.Context, coll storage.Collection[T], key string) (bool, error) {
	_, err := coll.Get(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	}
	return false, err
}

// ignoreNotFound drops storage.ErrNotFound: a cascade that finds a record
// already gone has nothing to do.
func ignoreNotFound(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}

// isNotFound reports whether err is storage.ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

// firstErr returns the first error that is not nil.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
