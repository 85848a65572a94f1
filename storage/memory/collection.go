package memory

import (
	"context"

	"github.com/scopekit/scopekit/storage"
)

// collection is a storage.Collection over one table of a tenant.
type collection[T any, PT interface {
	*T
	storage.Record
}] struct {
	s     *Store
	pick  func(*tenant) *table[T]
	clone func(*T) *T
	// index, when set, moves the record's entries in the tenant's lookups
	// from old to new (either nil for a create or a delete). The caller
	// holds the write lock.
	index func(t *tenant, old, new *T)
}

func (c collection[T, PT]) key(rec *T) (string, error) {
	k := PT(rec).Key()
	if !storage.ValidKey(k) {
		return "", storage.ErrInvalid
	}
	return k, nil
}

// Create implements storage.Collection.
func (c collection[T, PT]) Create(ctx context.Context, rec *T) error {
	return c.write(ctx, rec, func(t *tenant, tb *table[T], k string) error {
		if _, ok := tb.recs[k]; ok {
			return storage.ErrDuplicate
		}
		c.store(t, tb, k, nil, rec)
		return nil
	})
}

// Update implements storage.Collection: the revision is compared and the
// record replaced under the write lock.
func (c collection[T, PT]) Update(ctx context.Context, rec *T) error {
	return c.write(ctx, rec, func(t *tenant, tb *table[T], k string) error {
		cur, ok := tb.recs[k]
		if !ok {
			return storage.ErrNotFound
		}
		if PT(cur).Rev() != PT(rec).Rev() {
			return storage.ErrConflict
		}
		c.store(t, tb, k, cur, rec)
		return nil
	})
}

// store saves a copy of rec, replacing old, under a new revision and gives
// rec that revision. The caller holds the write lock.
func (c collection[T, PT]) store(t *tenant, tb *table[T], k string, old, rec *T) {
	v := c.clone(rec)
	PT(v).SetRev(storage.NewRevision())
	tb.recs[k] = v
	tb.keys.insert(k)
	if c.index != nil {
		c.index(t, old, v)
	}
	PT(rec).SetRev(PT(v).Rev())
}

func (c collection[T, PT]) write(ctx context.Context, rec *T, f func(*tenant, *table[T], string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k, err := c.key(rec)
	if err != nil {
		return err
	}
	c.s.b.mu.Lock()
	defer c.s.b.mu.Unlock()
	t := c.s.tenant(true)
	return f(t, c.pick(t), k)
}

// Get implements storage.Collection.
func (c collection[T, PT]) Get(ctx context.Context, key string) (*T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.s.b.mu.RLock()
	defer c.s.b.mu.RUnlock()
	t := c.s.tenant(false)
	if t == nil {
		return nil, storage.ErrNotFound
	}
	rec, ok := c.pick(t).recs[key]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return c.clone(rec), nil
}

// Delete implements storage.Collection.
func (c collection[T, PT]) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.s.b.mu.Lock()
	defer c.s.b.mu.Unlock()
	t := c.s.tenant(true)
	tb := c.pick(t)
	old, ok := tb.recs[key]
	if !ok {
		return storage.ErrNotFound
	}
	delete(tb.recs, key)
	tb.keys.remove(key)
	if c.index != nil {
		c.index(t, old, nil)
	}
	return nil
}

// List implements storage.Collection: a seek in the table's sorted keys,
// then the page's records.
func (c collection[T, PT]) List(ctx context.Context, q storage.ListQuery) (storage.Page[T], error) {
	return c.page(ctx, q, func(t *tenant) *keyIndex { return &c.pick(t).keys })
}

// page serves a range of the keys an index of the tenant holds (nil for
// none), reading the records from the collection's table.
func (c collection[T, PT]) page(ctx context.Context, q storage.ListQuery, idx func(*tenant) *keyIndex) (storage.Page[T], error) {
	if err := ctx.Err(); err != nil {
		return storage.Page[T]{}, err
	}
	r, err := q.Parse()
	if err != nil {
		return storage.Page[T]{}, err
	}
	c.s.b.mu.RLock()
	defer c.s.b.mu.RUnlock()
	var out []*T
	if t := c.s.tenant(false); t != nil {
		if x := idx(t); x != nil {
			recs := c.pick(t).recs
			x.scan(r.Prefix, r.After, func(k string) bool {
				out = append(out, c.clone(recs[k]))
				return len(out) <= r.Limit
			})
		}
	}
	return storage.NewPage[T, PT](out, r), nil
}
