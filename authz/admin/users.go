package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/scopekit/scopekit/storage"
)

// MaxMetadataBytes bounds a user's user_metadata and app_metadata, each, as
// JSON.
const MaxMetadataBytes = 16 << 10

// birthdate is the OIDC birthdate format (OIDC Core §5.1): YYYY-MM-DD,
// YYYY, or 0000-MM-DD when the year is withheld.
var birthdate = regexp.MustCompile(`^[0-9]{4}(-[0-9]{2}-[0-9]{2})?$`)

// validateUser is the one check of a user record: a valid user id
// (storage.ValidUserID), bounded profile claims, bounded metadata, and
// roles and groups that exist.
func (m *Admin) validateUser(ctx context.Context, u *storage.User) error {
	c := checker{kind: "user"}
	if !storage.ValidUserID(u.ID) {
		c.bad("user_id", "must be 1 to %d bytes of printable UTF-8, not ending with %q", storage.MaxIDBytes, storage.MachineSubjectSuffix)
	}
	for _, f := range []struct{ name, v string }{
		{"name", u.Name}, {"given_name", u.GivenName}, {"family_name", u.FamilyName},
		{"middle_name", u.MiddleName}, {"nickname", u.Nickname}, {"preferred_username", u.PreferredUsername},
		{"email", u.Email}, {"gender", u.Gender}, {"zoneinfo", u.Zoneinfo}, {"locale", u.Locale},
		{"phone_number", u.PhoneNumber},
	} {
		c.checkText(f.name, f.v, MaxNameBytes, false)
	}
	c.checkHTTPURL("profile", u.Profile)
	c.checkHTTPURL("picture", u.Picture)
	c.checkHTTPURL("website", u.Website)
	if u.Birthdate != "" && !birthdate.MatchString(u.Birthdate) {
		c.bad("birthdate", "must be YYYY-MM-DD or YYYY (OIDC Core §5.1)")
	}
	if a := u.Address; a != nil {
		for _, f := range []struct{ name, v string }{
			{"formatted", a.Formatted}, {"street_address", a.StreetAddress}, {"locality", a.Locality},
			{"region", a.Region}, {"postal_code", a.PostalCode}, {"country", a.Country},
		} {
			c.checkText("address."+f.name, f.v, MaxDescriptionBytes, false)
		}
	}
	for _, md := range []struct {
		name string
		v    map[string]any
	}{{"user_metadata", u.UserMetadata}, {"app_metadata", u.AppMetadata}} {
		if b, err := json.Marshal(md.v); err != nil || len(b) > MaxMetadataBytes {
			c.bad(md.name, "must be a JSON object of at most %d bytes", MaxMetadataBytes)
		}
	}
	if err := refs(ctx, &c, "roles", u.Roles, m.store.Roles(), "role"); err != nil {
		return err
	}
	if err := refs(ctx, &c, "groups", u.Groups, m.store.Groups(), "group"); err != nil {
		return err
	}
	return c.err()
}

// refs checks a list of ids naming records of coll: bounded, unique, each
// stored. Only a backend failure is returned.
func refs[T any](ctx context.Context, c *checker, field string, ids []string, coll storage.Collection[T], kind string) error {
	if !c.checkCount(field, len(ids), MaxListItems) {
		return nil
	}
	for i, id := range ids {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !storage.ValidID(id) {
			c.checkID(f, id)
			continue
		}
		ok, err := exists(ctx, coll, id)
		if err != nil {
			return err
		}
		if !ok {
			c.bad(f, "no %s has the id %q", kind, id)
		}
	}
	c.unique(field, ids)
	return nil
}

// CreateUser validates and stores a new user, stamps UpdatedAt and sets
// its revision in u; storage.ErrDuplicate if the id exists.
func (m *Admin) CreateUser(ctx context.Context, u *storage.User) (err error) {
	defer m.audit(ctx, "user", u.ID, "create", &err)
	rec := cloneUser(u)
	rec.UpdatedAt = m.srv.Now().UTC()
	if err := m.validateUser(ctx, rec); err != nil {
		return err
	}
	if err := m.store.Users().Create(ctx, rec); err != nil {
		return wrap("user", rec.ID, err)
	}
	u.Revision, u.UpdatedAt = rec.Revision, rec.UpdatedAt
	return nil
}

// GetUser returns the user; storage.ErrNotFound if none.
func (m *Admin) GetUser(ctx context.Context, id string) (*storage.User, error) {
	u, err := m.store.Users().Get(ctx, id)
	return u, wrap("user", id, err)
}

// ListUsers returns one page of the users, by id.
func (m *Admin) ListUsers(ctx context.Context, q Query) (Page[storage.User], error) {
	return list[storage.User](ctx, m.store.Users(), "", q)
}

// UpdateUser replaces the user u.ID with u if u.Revision is the stored
// revision (storage.ErrConflict otherwise, nothing written), stamps
// UpdatedAt and sets the new revision in u.
func (m *Admin) UpdateUser(ctx context.Context, u *storage.User) (err error) {
	defer m.audit(ctx, "user", u.ID, "update", &err)
	rec := cloneUser(u)
	rec.UpdatedAt = m.srv.Now().UTC()
	if err := m.validateUser(ctx, rec); err != nil {
		return err
	}
	if err := m.store.Users().Update(ctx, rec); err != nil {
		return wrap("user", rec.ID, err)
	}
	u.Revision, u.UpdatedAt = rec.Revision, rec.UpdatedAt
	return nil
}

// DeleteUser deletes the user, revokes every token family issued for them
// (authz.Server.DeleteUser) and deletes their consents.
func (m *Admin) DeleteUser(ctx context.Context, id string) (err error) {
	defer m.audit(ctx, "user", id, "delete", &err)
	gone := m.srv.DeleteUser(ctx, id)
	if gone != nil && !isNotFound(gone) {
		return wrap("user", id, gone)
	}
	err = each[storage.Consent](ctx, m.store.Consents(), storage.JoinKey(id, ""), func(c *storage.Consent) error {
		return ignoreNotFound(m.store.Consents().Delete(ctx, c.Key()))
	})
	return firstErr(err, wrap("user", id, gone))
}

// cloneUser copies a user so that nothing the caller holds is stored (the
// metadata maps are copied one level deep; their values are JSON data).
func cloneUser(u *storage.User) *storage.User {
	r := *u
	if u.Address != nil {
		a := *u.Address
		r.Address = &a
	}
	r.UserMetadata = maps.Clone(u.UserMetadata)
	r.AppMetadata = maps.Clone(u.AppMetadata)
	r.Roles = slices.Clone(u.Roles)
	r.Groups = slices.Clone(u.Groups)
	return &r
}
