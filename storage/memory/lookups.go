package memory

import (
	"context"

	"github.com/scopekit/scopekit/storage"
)

// lookups are a tenant's secondary indexes: for each looked-up value, the
// sorted keys of the records that hold it. Collections with lookups keep
// them in step with the records under the write lock (indexUser,
// indexGroup); a value no record holds any more has no index.
type lookups struct {
	usersByEmail map[string]*keyIndex // EmailKey -> user ids
	usersByGroup map[string]*keyIndex // group id -> user ids
	usersByRole  map[string]*keyIndex // role id -> user ids
	groupsByRole map[string]*keyIndex // role id -> group ids
}

func newLookups() lookups {
	return lookups{usersByEmail: map[string]*keyIndex{}, usersByGroup: map[string]*keyIndex{},
		usersByRole: map[string]*keyIndex{}, groupsByRole: map[string]*keyIndex{}}
}

// move takes key out of the indexes of the values in old that are not in
// new, and puts it in those of the values in new.
func move(m map[string]*keyIndex, key string, old, new []string) {
	for _, v := range old {
		if x := m[v]; x != nil {
			x.remove(key)
			if x.empty() {
				delete(m, v)
			}
		}
	}
	for _, v := range new {
		x := m[v]
		if x == nil {
			x = &keyIndex{}
			m[v] = x
		}
		x.insert(key)
	}
}

// userValues are the values a user is looked up by.
func userValues(u *storage.User) (email, groups, roles []string) {
	if u == nil {
		return nil, nil, nil
	}
	if e := storage.EmailKey(u.Email); e != "" {
		email = []string{e}
	}
	return email, storage.UniqueIDs(u.Groups), storage.UniqueIDs(u.Roles)
}

// indexUser moves a user's entries from old to new.
func indexUser(t *tenant, old, new *storage.User) {
	key := ""
	if old != nil {
		key = old.ID
	} else {
		key = new.ID
	}
	oe, og, or := userValues(old)
	ne, ng, nr := userValues(new)
	move(t.lookups.usersByEmail, key, oe, ne)
	move(t.lookups.usersByGroup, key, og, ng)
	move(t.lookups.usersByRole, key, or, nr)
}

// indexGroup moves a group's entries from old to new.
func indexGroup(t *tenant, old, new *storage.Group) {
	var key string
	var or, nr []string
	if old != nil {
		key, or = old.ID, storage.UniqueIDs(old.Roles)
	}
	if new != nil {
		key, nr = new.ID, storage.UniqueIDs(new.Roles)
	}
	move(t.lookups.groupsByRole, key, or, nr)
}

// users is the Users collection, for its lookups.
func (s *Store) users() collection[storage.User, *storage.User] {
	return s.Users().(collection[storage.User, *storage.User])
}

// lookup serves a page of the users in one index of the tenant's lookups.
func (s *Store) lookup(ctx context.Context, value string, q storage.ListQuery, pick func(*lookups) map[string]*keyIndex) (storage.Page[storage.User], error) {
	if err := storage.Lookup(value); err != nil {
		return storage.Page[storage.User]{}, err
	}
	return s.users().page(ctx, q, func(t *tenant) *keyIndex { return pick(&t.lookups)[value] })
}

// UsersByEmail implements storage.Directory.
func (s *Store) UsersByEmail(ctx context.Context, email string, q storage.ListQuery) (storage.Page[storage.User], error) {
	return s.lookup(ctx, storage.EmailKey(email), q, func(l *lookups) map[string]*keyIndex { return l.usersByEmail })
}

// GroupMembers implements storage.Directory.
func (s *Store) GroupMembers(ctx context.Context, groupID string, q storage.ListQuery) (storage.Page[storage.User], error) {
	return s.lookup(ctx, groupID, q, func(l *lookups) map[string]*keyIndex { return l.usersByGroup })
}

// RoleUsers implements storage.Directory.
func (s *Store) RoleUsers(ctx context.Context, roleID string, q storage.ListQuery) (storage.Page[storage.User], error) {
	return s.lookup(ctx, roleID, q, func(l *lookups) map[string]*keyIndex { return l.usersByRole })
}

// RoleGroups implements storage.Directory.
func (s *Store) RoleGroups(ctx context.Context, roleID string, q storage.ListQuery) (storage.Page[storage.Group], error) {
	if err := storage.Lookup(roleID); err != nil {
		return storage.Page[storage.Group]{}, err
	}
	groups := s.Groups().(collection[storage.Group, *storage.Group])
	return groups.page(ctx, q, func(t *tenant) *keyIndex { return t.lookups.groupsByRole[roleID] })
}
