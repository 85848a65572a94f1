package redis

import (
	"context"
	"encoding/hex"
	"slices"

	"github.com/scopekit/scopekit/storage"
)

// The lookup index of a kind is one sorted set of the tenant's tag, all
// members scored 0 so that they sort by bytes: "<lookup>:<hex value>:<key>",
// lookup e (e-mail, through storage.EmailKey), g (group) or r (role). The
// value is hex-encoded so that it never holds the ':' that ends it, and the
// members of one value are one lexicographic range, ordered by key: a page
// is a ZRANGEBYLEX with LIMIT from the cursor's key.

const (
	lookupEmail = "e"
	lookupGroup = "g"
	lookupRole  = "r"
)

// lookupBase starts the members of one value of one lookup.
func lookupBase(lookup, value string) string {
	return lookup + ":" + hex.EncodeToString([]byte(value)) + ":"
}

// userMembers are a user's members of the users' lookup index.
func userMembers(u *storage.User) []string {
	var out []string
	if e := storage.EmailKey(u.Email); e != "" {
		out = append(out, lookupBase(lookupEmail, e)+u.ID)
	}
	for _, g := range storage.UniqueIDs(u.Groups) {
		out = append(out, lookupBase(lookupGroup, g)+u.ID)
	}
	for _, r := range storage.UniqueIDs(u.Roles) {
		out = append(out, lookupBase(lookupRole, r)+u.ID)
	}
	return out
}

// groupMembers are a group's members of the groups' lookup index.
func groupMembers(g *storage.Group) []string {
	var out []string
	for _, r := range storage.UniqueIDs(g.Roles) {
		out = append(out, lookupBase(lookupRole, r)+g.ID)
	}
	return out
}

// lookup serves a page of one value of a lookup: two round trips, the
// index range then one MGET of the records; keep drops a record that
// changed between the two.
func lookup[T any, PT interface {
	*T
	storage.Record
}](ctx context.Context, c collection[T, PT], kind, value string, q storage.ListQuery, keep func(*T) bool) (storage.Page[T], error) {
	if err := storage.Lookup(value); err != nil {
		return storage.Page[T]{}, err
	}
	return c.page(ctx, c.s.lookupKey(c.kind), lookupBase(kind, value), q, keep)
}

func (s *Store) users() collection[storage.User, *storage.User] {
	return s.Users().(collection[storage.User, *storage.User])
}

// UsersByEmail implements storage.Directory.
func (s *Store) UsersByEmail(ctx context.Context, email string, q storage.ListQuery) (storage.Page[storage.User], error) {
	e := storage.EmailKey(email)
	return lookup(ctx, s.users(), lookupEmail, e, q, func(u *storage.User) bool { return storage.EmailKey(u.Email) == e })
}

// GroupMembers implements storage.Directory.
func (s *Store) GroupMembers(ctx context.Context, groupID string, q storage.ListQuery) (storage.Page[storage.User], error) {
	return lookup(ctx, s.users(), lookupGroup, groupID, q, func(u *storage.User) bool { return slices.Contains(u.Groups, groupID) })
}

// RoleUsers implements storage.Directory.
func (s *Store) RoleUsers(ctx context.Context, roleID string, q storage.ListQuery) (storage.Page[storage.User], error) {
	return lookup(ctx, s.users(), lookupRole, roleID, q, func(u *storage.User) bool { return slices.Contains(u.Roles, roleID) })
}

// RoleGroups implements storage.Directory.
func (s *Store) RoleGroups(ctx context.Context, roleID string, q storage.ListQuery) (storage.Page[storage.Group], error) {
	groups := s.Groups().(collection[storage.Group, *storage.Group])
	return lookup(ctx, groups, lookupRole, roleID, q, func(g *storage.Group) bool { return slices.Contains(g.Roles, roleID) })
}
