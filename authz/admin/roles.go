package admin

import (
	"context"
	"fmt"
	"slices"

	"github.com/scopekit/scopekit/storage"
)

// validateRole is the one check of a role: id, name, description, and
// permissions naming a scope an existing API defines, each once.
func (m *Admin) validateRole(ctx context.Context, r *storage.Role) error {
	c := checker{kind: "role"}
	c.checkID("id", r.ID)
	c.checkText("name", r.Name, MaxNameBytes, true)
	c.checkText("description", r.Description, MaxDescriptionBytes, false)
	if !c.checkCount("permissions", len(r.Permissions), MaxScopesPerAPI) {
		return c.err()
	}
	apis := map[string]*storage.API{}
	seen := map[storage.Permission]struct{}{}
	for i, p := range r.Permissions {
		f := fmt.Sprintf("permissions[%d]", i)
		api, ok := apis[p.Audience]
		if !ok && storage.ValidID(p.Audience) {
			var err error
			if api, err = m.store.APIs().Get(ctx, p.Audience); err != nil && !isNotFound(err) {
				return err
			}
			apis[p.Audience] = api
		}
		switch {
		case api == nil:
			c.bad(f+".resource_server_identifier", "no API has the identifier %q", p.Audience)
		case !api.HasScope(p.Scope):
			c.bad(f+".permission_name", "API %q defines no scope %q", p.Audience, p.Scope)
		}
		if _, dup := seen[p]; dup {
			c.bad(f, "repeats a permission")
		}
		seen[p] = struct{}{}
	}
	return c.err()
}

// CreateRole validates and stores a new role, and sets its revision in r.
func (m *Admin) CreateRole(ctx context.Context, r *storage.Role) (err error) {
	defer m.audit(ctx, "role", r.ID, "create", &err)
	rec := cloneRole(r)
	if err := m.validateRole(ctx, rec); err != nil {
		return err
	}
	if err := m.store.Roles().Create(ctx, rec); err != nil {
		return wrap("role", rec.ID, err)
	}
	r.Revision = rec.Revision
	return nil
}

// GetRole returns the role; storage.ErrNotFound if none.
func (m *Admin) GetRole(ctx context.Context, id string) (*storage.Role, error) {
	r, err := m.store.Roles().Get(ctx, id)
	return r, wrap("role", id, err)
}

// ListRoles returns one page of the roles, by id.
func (m *Admin) ListRoles(ctx context.Context, q Query) (Page[storage.Role], error) {
	return list[storage.Role](ctx, m.store.Roles(), "", q)
}

// UpdateRole replaces the role r.ID with r if r.Revision is the stored
// revision (storage.ErrConflict otherwise, nothing written), and sets the
// new revision in r.
func (m *Admin) UpdateRole(ctx context.Context, r *storage.Role) (err error) {
	defer m.audit(ctx, "role", r.ID, "update", &err)
	rec := cloneRole(r)
	if err := m.validateRole(ctx, rec); err != nil {
		return err
	}
	if err := m.store.Roles().Update(ctx, rec); err != nil {
		return wrap("role", rec.ID, err)
	}
	r.Revision = rec.Revision
	return nil
}

// DeleteRole deletes the role and removes it from the users and groups
// that hold it.
func (m *Admin) DeleteRole(ctx context.Context, id string) (err error) {
	defer m.audit(ctx, "role", id, "delete", &err)
	gone := m.store.Roles().Delete(ctx, id)
	if gone != nil && !isNotFound(gone) {
		return wrap("role", id, gone)
	}
	err = each[storage.User](ctx, m.store.Users(), "", func(u *storage.User) error {
		if !slices.Contains(u.Roles, id) {
			return nil
		}
		return revise(ctx, m.store.Users(), u.ID, func(u *storage.User) error {
			u.Roles = without(u.Roles, id)
			return nil
		})
	})
	if err != nil {
		return err
	}
	err = each[storage.Group](ctx, m.store.Groups(), "", func(g *storage.Group) error {
		if !slices.Contains(g.Roles, id) {
			return nil
		}
		return revise(ctx, m.store.Groups(), g.ID, func(g *storage.Group) error {
			g.Roles = without(g.Roles, id)
			return nil
		})
	})
	return firstErr(err, wrap("role", id, gone))
}

// without returns list without s.
func without(list []string, s string) []string {
	return slices.DeleteFunc(list, func(v string) bool { return v == s })
}

func cloneRole(r *storage.Role) *storage.Role {
	c := *r
	c.Permissions = slices.Clone(r.Permissions)
	return &c
}
