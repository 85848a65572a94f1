package admin

import (
	"context"
	"errors"
	"slices"

	"github.com/scopekit/scopekit/storage"
)

// validateGroup is the one check of a group: id, name, description, and
// roles that exist, each once.
func (m *Admin) validateGroup(ctx context.Context, g *storage.Group) error {
	c := checker{kind: "group"}
	c.checkID("id", g.ID)
	c.checkText("name", g.Name, MaxNameBytes, true)
	c.checkText("description", g.Description, MaxDescriptionBytes, false)
	if err := refs(ctx, &c, "roles", g.Roles, m.store.Roles(), "role"); err != nil {
		return err
	}
	return c.err()
}

// CreateGroup validates and stores a new group, and sets its revision in g.
func (m *Admin) CreateGroup(ctx context.Context, g *storage.Group) (err error) {
	defer m.audit(ctx, "group", g.ID, "create", &err)
	rec := cloneGroup(g)
	if err := m.validateGroup(ctx, rec); err != nil {
		return err
	}
	if err := m.store.Groups().Create(ctx, rec); err != nil {
		return wrap("group", rec.ID, err)
	}
	g.Revision = rec.Revision
	return nil
}

// GetGroup returns the group; storage.ErrNotFound if none.
func (m *Admin) GetGroup(ctx context.Context, id string) (*storage.Group, error) {
	g, err := m.store.Groups().Get(ctx, id)
	return g, wrap("group", id, err)
}

// ListGroups returns one page of the groups, by id.
func (m *Admin) ListGroups(ctx context.Context, q Query) (Page[storage.Group], error) {
	return list[storage.Group](ctx, m.store.Groups(), "", q)
}

// UpdateGroup replaces the group g.ID with g if g.Revision is the stored
// revision (storage.ErrConflict otherwise, nothing written), and sets the
// new revision in g.
func (m *Admin) UpdateGroup(ctx context.Context, g *storage.Group) (err error) {
	defer m.audit(ctx, "group", g.ID, "update", &err)
	rec := cloneGroup(g)
	if err := m.validateGroup(ctx, rec); err != nil {
		return err
	}
	if err := m.store.Groups().Update(ctx, rec); err != nil {
		return wrap("group", rec.ID, err)
	}
	g.Revision = rec.Revision
	return nil
}

// DeleteGroup deletes the group and removes it from its members.
func (m *Admin) DeleteGroup(ctx context.Context, id string) (err error) {
	defer m.audit(ctx, "group", id, "delete", &err)
	gone := m.store.Groups().Delete(ctx, id)
	if gone != nil && !isNotFound(gone) {
		return wrap("group", id, gone)
	}
	err = each[storage.User](ctx, m.store.Users(), "", func(u *storage.User) error {
		if !slices.Contains(u.Groups, id) {
			return nil
		}
		return m.leave(ctx, u.ID, id)
	})
	return firstErr(err, wrap("group", id, gone))
}

// ListGroupMembers returns one page of the users in the group, by id.
// Membership is recorded on the user (storage.User.Groups), so a page
// reads users until it is full.
func (m *Admin) ListGroupMembers(ctx context.Context, groupID string, q Query) (Page[storage.User], error) {
	if _, err := m.GetGroup(ctx, groupID); err != nil {
		return Page[storage.User]{}, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultPageSize
	}
	var page Page[storage.User]
	cursor := Query{After: q.After, Limit: max(limit, 1)}
	for {
		p, err := list[storage.User](ctx, m.store.Users(), "", cursor)
		if err != nil {
			return Page[storage.User]{}, err
		}
		for _, u := range p.Items {
			if !slices.Contains(u.Groups, groupID) {
				continue
			}
			if len(page.Items) == limit {
				page.Next = page.Items[limit-1].ID
				return page, nil
			}
			page.Items = append(page.Items, u)
		}
		if p.Next == "" {
			return page, nil
		}
		cursor.After = p.Next
	}
}

// AddGroupMember adds the user to the group; adding a member twice is not
// an error. The change is merged into the user as stored (storage.Revise).
func (m *Admin) AddGroupMember(ctx context.Context, groupID, userID string) (err error) {
	defer m.audit(ctx, "group", groupID, "add_member", &err)
	if _, err := m.GetGroup(ctx, groupID); err != nil {
		return err
	}
	err = storage.Revise(ctx, m.store.Users(), userID, nil, func(u *storage.User) error {
		if slices.Contains(u.Groups, groupID) {
			return errUnchanged
		}
		if len(u.Groups) >= MaxListItems {
			c := checker{kind: "user"}
			c.bad("groups", "must have at most %d items", MaxListItems)
			return c.err()
		}
		u.Groups = append(u.Groups, groupID)
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return wrap("user", userID, err)
}

// RemoveGroupMember removes the user from the group.
func (m *Admin) RemoveGroupMember(ctx context.Context, groupID, userID string) (err error) {
	defer m.audit(ctx, "group", groupID, "remove_member", &err)
	return m.leave(ctx, userID, groupID)
}

// leave removes the group from the user's groups.
func (m *Admin) leave(ctx context.Context, userID, groupID string) error {
	return revise(ctx, m.store.Users(), userID, func(u *storage.User) error {
		if !slices.Contains(u.Groups, groupID) {
			return errUnchanged
		}
		u.Groups = without(u.Groups, groupID)
		return nil
	})
}

func cloneGroup(g *storage.Group) *storage.Group {
	c := *g
	c.Roles = slices.Clone(g.Roles)
	return &c
}
