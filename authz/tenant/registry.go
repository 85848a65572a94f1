package tenant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
)

// maxAcquire bounds the attempts of acquire when the entry it waited for
// was evicted or found stale meanwhile.
const maxAcquire = 3

// Registry is the set of tenants of one host over one backend. It is safe
// for concurrent use; call Close when done.
type Registry struct {
	cfg  Config
	root storage.Store

	mu       sync.Mutex
	cache    *cache
	deleting map[string]int // ids being deleted: not served, not built
	closed   bool
}

// New validates cfg and returns a Registry. It does no I/O: a tenant's
// Server is built on its first request.
func New(cfg Config) (*Registry, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Registry{cfg: c, root: c.Store, cache: newCache(c.MaxServers), deleting: map[string]int{}}, nil
}

// Issuer returns the issuer URL of tenant id (whether or not it exists).
func (r *Registry) Issuer(id string) string { return r.cfg.issuer(id) }

// Server returns the Server of tenant id, building it on first use.
// storage.ErrNotFound when there is no such tenant, or it is being deleted.
// The Server is the Registry's: do not Close it.
func (r *Registry) Server(ctx context.Context, id string) (*authz.Server, error) {
	e, err := r.acquire(ctx, id, false)
	if err != nil {
		return nil, err
	}
	return e.srv, nil
}

// acquire returns the built entry of tenant id; with track it counts one
// more request in flight on it, which the caller ends with inflight.Done.
func (r *Registry) acquire(ctx context.Context, id string, track bool) (*entry, error) {
	if r.cfg.validID(id) != nil {
		return nil, storage.ErrNotFound
	}
	for range maxAcquire {
		r.mu.Lock()
		if r.closed || r.deleting[id] > 0 {
			r.mu.Unlock()
			return nil, storage.ErrNotFound
		}
		e := r.cache.get(id)
		fresh := e == nil
		if fresh {
			e = &entry{id: id, ready: make(chan struct{}), checked: r.cfg.Now()}
			evicted := r.cache.add(e)
			r.mu.Unlock()
			for _, old := range evicted {
				go old.closeWhenBuilt()
			}
			r.build(ctx, e)
		} else {
			r.mu.Unlock()
		}
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		r.mu.Lock()
		if e.err != nil {
			r.cache.remove(e) // the next request tries again
			r.mu.Unlock()
			if !fresh && isContextErr(e.err) {
				continue // the build ran on another request's context, which ended
			}
			return nil, e.err
		}
		if e.gone {
			r.mu.Unlock()
			continue // evicted or deleted meanwhile: look again
		}
		now := r.cfg.Now()
		stale := now.Sub(e.checked) >= r.cfg.Recheck
		if stale {
			e.checked = now // one request rechecks; the others go on
		}
		if track {
			e.inflight.Add(1)
		}
		r.mu.Unlock()
		if !stale {
			return e, nil
		}
		rec, err := r.root.Tenants().Get(ctx, id)
		if err == nil && rec.CreatedAt.Equal(e.created) || err != nil && !errors.Is(err, storage.ErrNotFound) {
			return e, nil // still there, or the store cannot tell: keep serving
		}
		// Deleted, or deleted and created again, by another process.
		r.mu.Lock()
		r.cache.remove(e)
		r.mu.Unlock()
		go e.closeWhenBuilt()
		if track {
			e.inflight.Done()
		}
		if err != nil {
			return nil, storage.ErrNotFound
		}
	}
	return nil, fmt.Errorf("%w: tenant %q kept changing while it was looked up", storage.ErrUnavailable, id)
}

// build reads the tenant record and builds its Server into e, then closes
// e.ready.
func (r *Registry) build(ctx context.Context, e *entry) {
	defer close(e.ready)
	rec, err := r.root.Tenants().Get(ctx, e.id)
	if err != nil {
		e.err = err
		return
	}
	cfg := r.cfg.Template
	cfg.Grants, cfg.Rules = slices.Clone(cfg.Grants), slices.Clone(cfg.Rules)
	cfg.Issuer, cfg.Store = r.cfg.issuer(e.id), r.root.Tenant(e.id)
	if r.cfg.Configure != nil {
		if err := r.cfg.Configure(ctx, rec, &cfg); err != nil {
			e.err = fmt.Errorf("tenant %q: Configure: %w", e.id, err)
			return
		}
		if cfg.Issuer != r.cfg.issuer(e.id) || cfg.Keys != nil {
			e.err = fmt.Errorf("tenant %q: Configure may not change Issuer or set Keys", e.id)
			return
		}
		cfg.Store = r.root.Tenant(e.id)
	}
	srv, err := authz.New(ctx, cfg)
	if err != nil {
		e.err = err
		return
	}
	e.srv, e.handler, e.created = srv, srv.Handler(), rec.CreatedAt
}

// Create validates t and creates the tenant: its record (ID, Name;
// CreatedAt and Revision are set in t), then its Server, which makes its
// first signing key, then Config.Bootstrap. storage.ErrInvalid for a bad id
// or name, storage.ErrDuplicate when the id exists or belonged to a deleted
// tenant (ids are never reused, see Delete), storage.ErrConflict
// while a tenant of that id is being deleted. When a step after the record
// fails, the tenant is deleted again and the error returned. The new
// tenant serves at once, in this process and in any other over the store.
func (r *Registry) Create(ctx context.Context, t *storage.Tenant) error {
	if err := r.cfg.validID(t.ID); err != nil {
		return err
	}
	if err := validName(t.Name); err != nil {
		return err
	}
	r.mu.Lock()
	deleting := r.deleting[t.ID] > 0
	r.mu.Unlock()
	if deleting {
		return fmt.Errorf("%w: tenant %q is being deleted", storage.ErrConflict, t.ID)
	}
	if err := r.buried(ctx, t.ID); err != nil {
		return err
	}
	rec := &storage.Tenant{ID: t.ID, Name: t.Name, CreatedAt: r.cfg.Now().UTC().Truncate(time.Millisecond)}
	if err := r.root.Tenants().Create(ctx, rec); err != nil {
		return err
	}
	if err := r.buried(ctx, t.ID); err != nil {
		// A Delete of the id ran since the first look: the id stays
		// refused, and the record just made goes.
		_ = r.remove(context.WithoutCancel(ctx), t.ID, false)
		return err
	}
	srv, err := r.Server(ctx, rec.ID)
	if err == nil && r.cfg.Bootstrap != nil {
		err = r.cfg.Bootstrap(ctx, rec, srv)
	}
	if err != nil {
		_ = r.remove(context.WithoutCancel(ctx), rec.ID, false) // a failed creation leaves no grave
		return err
	}
	*t = *rec
	return nil
}

// Get returns the record of tenant id; storage.ErrNotFound if none.
func (r *Registry) Get(ctx context.Context, id string) (*storage.Tenant, error) {
	if r.cfg.validID(id) != nil {
		return nil, storage.ErrNotFound
	}
	return r.root.Tenants().Get(ctx, id)
}

// List returns one page of the tenant records in id order (see
// storage.ListQuery).
func (r *Registry) List(ctx context.Context, q storage.ListQuery) (storage.Page[storage.Tenant], error) {
	return r.root.Tenants().List(ctx, q)
}

// Rename sets the display name of the tenant t.ID to t.Name if the stored
// revision is t.Revision (compare-and-swap), and sets t to the stored
// record. storage.ErrConflict when another write came first,
// storage.ErrNotFound when there is no such tenant, storage.ErrInvalid for
// a bad name.
func (r *Registry) Rename(ctx context.Context, t *storage.Tenant) error {
	if err := validName(t.Name); err != nil {
		return err
	}
	cur, err := r.Get(ctx, t.ID)
	if err != nil {
		return err
	}
	if cur.Revision != t.Revision {
		return storage.ErrConflict
	}
	cur.Name = t.Name
	if err := r.root.Tenants().Update(ctx, cur); err != nil {
		return err
	}
	*t = *cur
	return nil
}

// Delete deletes tenant id and all its data. In order: the tenant stops
// being served (new requests are 404, Server is storage.ErrNotFound), its
// cached Server is closed, the requests in flight on it end, its record is
// replaced by a grave, and its data is dropped (storage.Tenancy.DropTenant).
// The id is never given to a new tenant (Create refuses it): the deleted
// tenant's unexpired tokens carry its issuer, and an API that cached its
// JWKS would take them for the new tenant's.
// storage.ErrNotFound when there was no record; the data is dropped all the
// same, so Delete again finishes a Delete that failed half-way. Other
// processes over the store stop serving the tenant within Config.Recheck.
func (r *Registry) Delete(ctx context.Context, id string) error {
	return r.remove(ctx, id, true)
}

// remove is Delete; bury says whether the id is kept from reuse.
func (r *Registry) remove(ctx context.Context, id string, bury bool) error {
	if r.cfg.validID(id) != nil {
		return storage.ErrNotFound
	}
	r.mu.Lock()
	r.deleting[id]++
	e := r.cache.entries[id]
	if e != nil {
		r.cache.remove(e)
	}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		if r.deleting[id]--; r.deleting[id] == 0 {
			delete(r.deleting, id)
		}
		r.mu.Unlock()
	}()
	if e != nil {
		e.closeWhenBuilt()
		e.inflight.Wait()
	}
	_, err := r.root.Tenants().Get(ctx, id)
	if err == nil && bury {
		err = r.graves().Create(ctx, &storage.Tenant{ID: id, CreatedAt: r.cfg.Now().UTC().Truncate(time.Millisecond)})
		if errors.Is(err, storage.ErrDuplicate) {
			err = nil // buried by a concurrent Delete
		}
	}
	if err == nil {
		err = r.root.Tenants().Delete(ctx, id)
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if derr := r.root.DropTenant(ctx, id); derr != nil {
		return derr
	}
	return err
}

// graveyard is the store view of the ids of deleted tenants. Its id holds
// storage.KeySep, which no tenant id can (storage.ValidID), so it is no
// tenant's view.
const graveyard = storage.KeySep + "deleted"

// graves are the records of the deleted tenants: their ids, and in
// CreatedAt the instant of deletion.
func (r *Registry) graves() storage.Collection[storage.Tenant] {
	return r.root.Tenant(graveyard).Tenants()
}

// buried returns storage.ErrDuplicate when id belonged to a deleted tenant.
func (r *Registry) buried(ctx context.Context, id string) error {
	_, err := r.graves().Get(ctx, id)
	switch {
	case err == nil:
		return fmt.Errorf("%w: tenant %q was deleted, and the ids of deleted tenants are not reused", storage.ErrDuplicate, id)
	case errors.Is(err, storage.ErrNotFound):
		return nil
	}
	return err
}

// Close closes every cached Server (their background key reloads stop);
// the Registry then serves no tenant. It returns nil.
func (r *Registry) Close() error {
	r.mu.Lock()
	r.closed = true
	all := r.cache.all()
	r.mu.Unlock()
	for _, e := range all {
		e.closeWhenBuilt()
	}
	return nil
}

// isContextErr reports whether err is a context's cancellation or deadline.
func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
