package mongo

import (
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/bson"
	mongodriver "go.mongodb.org/mongo-driver/mongo"

	"github.com/scopekit/scopekit/storage"
)

// lookupIndexes serve the directory's lookups: each is an equality on one
// field (an array field matches any of its elements) within a tenant, then
// the range of ids from the cursor, so a page is one index range whatever
// the directory's size. The users' email_key is storage.EmailKey of their
// Email, written with every user document.
var lookupIndexes = []struct {
	users bool // on the users collection, else on the groups
	field string
}{{true, "email_key"}, {true, "groups"}, {true, "roles"}, {false, "roles"}}

// ensureLookupIndexes creates lookupIndexes; EnsureIndexes calls it.
func (s *Store) ensureLookupIndexes(ctx context.Context) error {
	for _, ix := range lookupIndexes {
		c := s.c.groups
		if ix.users {
			c = s.c.users
		}
		m := mongodriver.IndexModel{Keys: bson.D{{Key: "tenant", Value: 1}, {Key: ix.field, Value: 1}, {Key: "_id", Value: 1}}}
		if _, err := c.Indexes().CreateOne(ctx, m); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

func (s *Store) users() collection[storage.User, *storage.User] {
	return s.Users().(collection[storage.User, *storage.User])
}

// UsersByEmail implements storage.Directory. A user whose document is
// behind an update claim (its write failed after the claim) is found by
// the e-mail its document holds until a read or write brings it forward,
// and left out when the claim changed it.
func (s *Store) UsersByEmail(ctx context.Context, email string, q storage.ListQuery) (storage.Page[storage.User], error) {
	e := storage.EmailKey(email)
	if err := storage.Lookup(e); err != nil {
		return storage.Page[storage.User]{}, err
	}
	return s.users().page(ctx, q, bson.M{"email_key": e}, func(u *storage.User) bool { return storage.EmailKey(u.Email) == e })
}

// GroupMembers implements storage.Directory, as UsersByEmail.
func (s *Store) GroupMembers(ctx context.Context, groupID string, q storage.ListQuery) (storage.Page[storage.User], error) {
	if err := storage.Lookup(groupID); err != nil {
		return storage.Page[storage.User]{}, err
	}
	return s.users().page(ctx, q, bson.M{"groups": groupID}, func(u *storage.User) bool { return slices.Contains(u.Groups, groupID) })
}

// RoleUsers implements storage.Directory, as UsersByEmail.
func (s *Store) RoleUsers(ctx context.Context, roleID string, q storage.ListQuery) (storage.Page[storage.User], error) {
	if err := storage.Lookup(roleID); err != nil {
		return storage.Page[storage.User]{}, err
	}
	return s.users().page(ctx, q, bson.M{"roles": roleID}, func(u *storage.User) bool { return slices.Contains(u.Roles, roleID) })
}

// RoleGroups implements storage.Directory, as UsersByEmail.
func (s *Store) RoleGroups(ctx context.Context, roleID string, q storage.ListQuery) (storage.Page[storage.Group], error) {
	if err := storage.Lookup(roleID); err != nil {
		return storage.Page[storage.Group]{}, err
	}
	groups := s.Groups().(collection[storage.Group, *storage.Group])
	return groups.page(ctx, q, bson.M{"roles": roleID}, func(g *storage.Group) bool { return slices.Contains(g.Roles, roleID) })
}
