package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/scopekit/scopekit/storage"
)

// validateAPI is the one check of an API record.
func validateAPI(a *storage.API) error {
	c := checker{kind: "api"}
	c.checkAbsoluteURI("identifier", a.Identifier)
	c.checkText("name", a.Name, MaxNameBytes, false)
	if c.checkCount("scopes", len(a.Scopes), MaxScopesPerAPI) {
		seen := make(map[string]struct{}, len(a.Scopes))
		for i, s := range a.Scopes {
			f := fmt.Sprintf("scopes[%d]", i)
			if c.checkScopeName(f+".name", s.Name) {
				if _, dup := seen[s.Name]; dup {
					c.bad(f+".name", "repeats scope %q", s.Name)
				}
				seen[s.Name] = struct{}{}
			}
			c.checkText(f+".description", s.Description, MaxDescriptionBytes, false)
		}
	}
	if a.TokenLifetime != 0 && (a.TokenLifetime < MinTokenLifetime || a.TokenLifetime > MaxTokenLifetime) {
		c.bad("token_lifetime", "must be zero (the server default) or between %v and %v", MinTokenLifetime, MaxTokenLifetime)
	}
	c.checkAlg("signing_alg", a.SigningAlg)
	if f := a.TokenFormat; f != "" && f != storage.TokenFormatJWT && f != storage.TokenFormatOpaque {
		c.bad("token_format", "must be %q or %q", storage.TokenFormatJWT, storage.TokenFormatOpaque)
	}
	c.checkExchangePolicy(a)
	return c.err()
}

// CreateAPI validates and stores a new API, and sets its revision in a. An
// existing identifier is storage.ErrDuplicate.
func (m *Admin) CreateAPI(ctx context.Context, a *storage.API) (err error) {
	defer m.audit(ctx, "api", a.Identifier, "create", &err)
	rec := cloneAPI(a)
	if err := validateAPI(rec); err != nil {
		return err
	}
	if err := m.store.APIs().Create(ctx, rec); err != nil {
		return wrap("api", rec.Identifier, err)
	}
	a.Revision = rec.Revision
	return nil
}

// GetAPI returns the API with the identifier; storage.ErrNotFound if none.
func (m *Admin) GetAPI(ctx context.Context, identifier string) (*storage.API, error) {
	a, err := m.store.APIs().Get(ctx, identifier)
	return a, wrap("api", identifier, err)
}

// ListAPIs returns one page of the APIs, by identifier.
func (m *Admin) ListAPIs(ctx context.Context, q Query) (Page[storage.API], error) {
	return list[storage.API](ctx, m.store.APIs(), "", q)
}

// UpdateAPI replaces the API a.Identifier with a, if a.Revision is the
// stored revision (storage.ErrConflict otherwise, nothing written), and
// sets the new revision in a. Managed cannot change. Scopes removed from
// the API are then removed from its client grants, role permissions and
// consents.
func (m *Admin) UpdateAPI(ctx context.Context, a *storage.API) (err error) {
	defer m.audit(ctx, "api", a.Identifier, "update", &err)
	rec := cloneAPI(a)
	if err := validateAPI(rec); err != nil {
		return err
	}
	old, err := m.store.APIs().Get(ctx, rec.Identifier)
	if err != nil {
		return wrap("api", rec.Identifier, err)
	}
	if old.Revision != rec.Revision {
		return wrap("api", rec.Identifier, storage.ErrConflict)
	}
	if old.Managed != rec.Managed {
		c := checker{kind: "api"}
		c.bad("managed", "cannot change")
		return c.err()
	}
	if err := m.store.APIs().Update(ctx, rec); err != nil {
		return wrap("api", rec.Identifier, err)
	}
	a.Revision = rec.Revision
	var removed []string
	for _, s := range old.Scopes {
		if !rec.HasScope(s.Name) {
			removed = append(removed, s.Name)
		}
	}
	if len(removed) == 0 {
		return nil
	}
	gone := func(aud, scope string) bool { return aud == rec.Identifier && slices.Contains(removed, scope) }
	return m.dropScopes(ctx, rec.Identifier, gone)
}

// DeleteAPI deletes the API and everything that names it: its client
// grants, the role permissions and consents for it, and its place in
// clients' introspect_audiences. A Managed API is refused (ErrManaged).
func (m *Admin) DeleteAPI(ctx context.Context, identifier string) (err error) {
	defer m.audit(ctx, "api", identifier, "delete", &err)
	a, gone := m.store.APIs().Get(ctx, identifier)
	if gone != nil && !isNotFound(gone) {
		return wrap("api", identifier, gone)
	}
	if a != nil && a.Managed {
		return wrap("api", identifier, ErrManaged)
	}
	if a != nil {
		if gone = m.store.APIs().Delete(ctx, identifier); gone != nil && !isNotFound(gone) {
			return wrap("api", identifier, gone)
		}
	}
	if err := m.dropScopes(ctx, identifier, func(aud, _ string) bool { return aud == identifier }); err != nil {
		return err
	}
	err = each[storage.Client](ctx, m.store.Clients(), "", func(c *storage.Client) error {
		if !slices.Contains(c.IntrospectAudiences, identifier) {
			return nil
		}
		return revise(ctx, m.store.Clients(), c.ID, func(c *storage.Client) error {
			c.IntrospectAudiences = slices.DeleteFunc(c.IntrospectAudiences, func(s string) bool { return s == identifier })
			return nil
		})
	})
	return firstErr(err, wrap("api", identifier, gone))
}

// dropScopes removes the scopes of the audience that gone reports from
// its client grants, role permissions and consents; gone(audience, "")
// true means the whole audience goes. A client grant or consent left
// without scopes is deleted: it would grant a token of the API with none.
func (m *Admin) dropScopes(ctx context.Context, audience string, gone func(aud, scope string) bool) error {
	strip := func(scopes *[]string) bool {
		*scopes = slices.DeleteFunc(*scopes, func(s string) bool { return gone(audience, s) })
		return len(*scopes) == 0 || gone(audience, "")
	}
	err := each[storage.ClientGrant](ctx, m.store.ClientGrants(), "", func(g *storage.ClientGrant) error {
		if g.Audience != audience {
			return nil
		}
		return reviseOrDelete(ctx, m.store.ClientGrants(), g.Key(), func(g *storage.ClientGrant) bool { return strip(&g.Scopes) })
	})
	if err != nil {
		return err
	}
	err = each[storage.Consent](ctx, m.store.Consents(), "", func(c *storage.Consent) error {
		if c.Audience != audience {
			return nil
		}
		return reviseOrDelete(ctx, m.store.Consents(), c.Key(), func(c *storage.Consent) bool { return strip(&c.Scopes) })
	})
	if err != nil {
		return err
	}
	held := func(p storage.Permission) bool { return gone(p.Audience, p.Scope) }
	return each[storage.Role](ctx, m.store.Roles(), "", func(r *storage.Role) error {
		if !slices.ContainsFunc(r.Permissions, held) {
			return nil
		}
		return revise(ctx, m.store.Roles(), r.ID, func(r *storage.Role) error {
			r.Permissions = slices.DeleteFunc(r.Permissions, held)
			return nil
		})
	})
}

// reviseOrDelete applies strip to the stored record key (storage.Revise),
// and deletes the record instead when strip reports it empty.
func reviseOrDelete[T any](ctx context.Context, coll storage.Collection[T], key string, strip func(*T) (empty bool)) error {
	var empty bool
	err := revise(ctx, coll, key, func(rec *T) error {
		if empty = strip(rec); empty {
			return errUnchanged
		}
		return nil
	})
	if err != nil || !empty {
		return err
	}
	if err := coll.Delete(ctx, key); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return nil
}

// cloneAPI copies an API so that nothing the caller holds is stored.
func cloneAPI(a *storage.API) *storage.API {
	c := *a
	c.Scopes = slices.Clone(a.Scopes)
	c.TokenExchange = a.TokenExchange.Clone()
	return &c
}
