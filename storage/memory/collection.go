package memory

import (
	"context"
	"sort"
	"strings"

	"github.com/scopekit/scopekit/storage"
)

// collection is a storage.Collection over one map of a tenant.
type collection[T any, PT interface {
	*T
	storage.Record
}] struct {
	s     *Store
	pick  func(*tenant) map[string]*T
	clone func(*T) *T
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
	return c.write(ctx, rec, func(m map[string]*T, k string) error {
		if _, ok := m[k]; ok {
			return storage.ErrDuplicate
		}
		c.store(m, k, rec)
		return nil
	})
}

// Update implements storage.Collection: the revision is compared and the
// record replaced under the write lock.
func (c collection[T, PT]) Update(ctx context.Context, rec *T) error {
	return c.write(ctx, rec, func(m map[string]*T, k string) error {
		cur, ok := m[k]
		if !ok {
			return storage.ErrNotFound
		}
		if PT(cur).Rev() != PT(rec).Rev() {
			return storage.ErrConflict
		}
		c.store(m, k, rec)
		return nil
	})
}

// store saves a copy of rec under a new revision and gives rec that
// revision. The caller holds the write lock.
func (c collection[T, PT]) store(m map[string]*T, k string, rec *T) {
	v := c.clone(rec)
	PT(v).SetRev(storage.NewRevision())
	m[k] = v
	PT(rec).SetRev(PT(v).Rev())
}

func (c collection[T, PT]) write(ctx context.Context, rec *T, f func(map[string]*T, string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k, err := c.key(rec)
	if err != nil {
		return err
	}
	c.s.b.mu.Lock()
	defer c.s.b.mu.Unlock()
	return f(c.pick(c.s.tenant(true)), k)
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
	rec, ok := c.pick(t)[key]
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
	m := c.pick(c.s.tenant(true))
	if _, ok := m[key]; !ok {
		return storage.ErrNotFound
	}
	delete(m, key)
	return nil
}

// List implements storage.Collection.
func (c collection[T, PT]) List(ctx context.Context, prefix string) ([]*T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.s.b.mu.RLock()
	defer c.s.b.mu.RUnlock()
	t := c.s.tenant(false)
	if t == nil {
		return []*T{}, nil
	}
	m := c.pick(t)
	keys := make([]string, 0, len(m))
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]*T, len(keys))
	for i, k := range keys {
		out[i] = c.clone(m[k])
	}
	return out, nil
}
