package admin

import (
	"context"
	"fmt"
	"slices"

	"github.com/scopekit/scopekit/storage"
)

// validateConsent is the one check of a consent: a user, a client and an
// API that exist, and scopes the API defines, each once.
func (m *Admin) validateConsent(ctx context.Context, cs *storage.Consent) error {
	c := checker{kind: "consent"}
	var api *storage.API
	for _, ref := range []struct {
		field, id string
		get       func() error
	}{
		{"user_id", cs.UserID, func() error { _, err := m.store.Users().Get(ctx, cs.UserID); return err }},
		{"client_id", cs.ClientID, func() error { _, err := m.store.Clients().Get(ctx, cs.ClientID); return err }},
		{"audience", cs.Audience, func() (err error) { api, err = m.store.APIs().Get(ctx, cs.Audience); return err }},
	} {
		if !storage.ValidID(ref.id) {
			c.checkID(ref.field, ref.id)
			continue
		}
		if err := ref.get(); isNotFound(err) {
			c.bad(ref.field, "names no stored record: %q", ref.id)
		} else if err != nil {
			return err
		}
	}
	if c.checkCount("scope", len(cs.Scopes), MaxScopesPerAPI) {
		for i, s := range cs.Scopes {
			if api != nil && !api.HasScope(s) {
				c.bad(fmt.Sprintf("scope[%d]", i), "API %q defines no scope %q", cs.Audience, s)
			}
		}
		c.unique("scope", cs.Scopes)
	}
	return c.err()
}

// CreateConsent validates and stores a new consent, stamps GrantedAt when
// zero, and sets its revision in cs.
func (m *Admin) CreateConsent(ctx context.Context, cs *storage.Consent) (err error) {
	defer m.audit(ctx, "consent", storage.JoinKey(cs.UserID, cs.ClientID, cs.Audience), "create", &err)
	rec := cloneConsent(cs)
	if rec.GrantedAt.IsZero() {
		rec.GrantedAt = m.srv.Now().UTC()
	}
	if err := m.validateConsent(ctx, rec); err != nil {
		return err
	}
	if err := m.store.Consents().Create(ctx, rec); err != nil {
		return wrap("consent", rec.UserID+" "+rec.ClientID+" "+rec.Audience, err)
	}
	cs.Revision, cs.GrantedAt = rec.Revision, rec.GrantedAt
	return nil
}

// GetConsent returns the user's consent to the client for the API.
func (m *Admin) GetConsent(ctx context.Context, userID, clientID, audience string) (*storage.Consent, error) {
	c, err := m.store.Consents().Get(ctx, storage.JoinKey(userID, clientID, audience))
	return c, wrap("consent", userID+" "+clientID+" "+audience, err)
}

// ListConsents returns one page of the user's consents.
func (m *Admin) ListConsents(ctx context.Context, userID string, q Query) (Page[storage.Consent], error) {
	return list[storage.Consent](ctx, m.store.Consents(), storage.JoinKey(userID, ""), q)
}

// UpdateConsent replaces the consent with cs if cs.Revision is the stored
// revision (storage.ErrConflict otherwise, nothing written), and sets the
// new revision in cs.
func (m *Admin) UpdateConsent(ctx context.Context, cs *storage.Consent) (err error) {
	defer m.audit(ctx, "consent", storage.JoinKey(cs.UserID, cs.ClientID, cs.Audience), "update", &err)
	rec := cloneConsent(cs)
	if err := m.validateConsent(ctx, rec); err != nil {
		return err
	}
	if err := m.store.Consents().Update(ctx, rec); err != nil {
		return wrap("consent", rec.UserID+" "+rec.ClientID+" "+rec.Audience, err)
	}
	cs.Revision = rec.Revision
	return nil
}

// DeleteConsent withdraws the consent and revokes the token families it
// allowed (authz.Server.RevokeConsent).
func (m *Admin) DeleteConsent(ctx context.Context, userID, clientID, audience string) (err error) {
	defer m.audit(ctx, "consent", storage.JoinKey(userID, clientID, audience), "delete", &err)
	return wrap("consent", userID+" "+clientID+" "+audience, m.srv.RevokeConsent(ctx, userID, clientID, audience))
}

func cloneConsent(c *storage.Consent) *storage.Consent {
	r := *c
	r.Scopes = slices.Clone(c.Scopes)
	return &r
}
