package memory

import (
	"context"

	"github.com/scopekit/scopekit/storage"
)

// Tenants implements storage.Tenancy.
func (s *Store) Tenants() storage.Collection[storage.Tenant] {
	return collection[storage.Tenant, *storage.Tenant]{s: s, pick: func(t *tenant) *table[storage.Tenant] { return t.tenants }, clone: cloneTenant}
}

// DropTenant implements storage.Tenancy: the tenant's maps are dropped at
// once, under the write lock.
func (s *Store) DropTenant(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if id == "" {
		return storage.ErrInvalid
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	delete(s.b.tenants, id)
	return nil
}

func cloneTenant(t *storage.Tenant) *storage.Tenant {
	c := *t
	return &c
}
