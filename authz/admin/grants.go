package admin

import (
	"context"
	"fmt"
	"slices"

	"github.com/scopekit/scopekit/storage"
)

// validateClientGrant is the one check of a client grant: a confidential
// client and an API that exist, and scopes the API defines, each once.
func (m *Admin) validateClientGrant(ctx context.Context, g *storage.ClientGrant) error {
	c := checker{kind: "client_grant"}
	c.checkID("client_id", g.ClientID)
	c.checkID("audience", g.Audience)
	if len(c.fields) > 0 {
		return c.err()
	}
	cl, err := m.store.Clients().Get(ctx, g.ClientID)
	switch {
	case isNotFound(err):
		c.bad("client_id", "no client has the id %q", g.ClientID)
	case err != nil:
		return err
	case cl.Public:
		c.bad("client_id", "client %q is public: it cannot use client credentials (RFC 6749 §4.4)", g.ClientID)
	}
	api, err := m.store.APIs().Get(ctx, g.Audience)
	switch {
	case isNotFound(err):
		c.bad("audience", "no API has the identifier %q", g.Audience)
	case err != nil:
		return err
	}
	if c.checkCount("scope", len(g.Scopes), MaxScopesPerAPI) {
		for i, s := range g.Scopes {
			if api != nil && !api.HasScope(s) {
				c.bad(fmt.Sprintf("scope[%d]", i), "API %q defines no scope %q", g.Audience, s)
			}
		}
		c.unique("scope", g.Scopes)
	}
	return c.err()
}

// CreateClientGrant validates and stores a new client grant, and sets its
// revision in g; storage.ErrDuplicate if the client has one for the API.
func (m *Admin) CreateClientGrant(ctx context.Context, g *storage.ClientGrant) (err error) {
	defer m.audit(ctx, "client_grant", storage.JoinKey(g.ClientID, g.Audience), "create", &err)
	rec := cloneGrant(g)
	if err := m.validateClientGrant(ctx, rec); err != nil {
		return err
	}
	if err := m.store.ClientGrants().Create(ctx, rec); err != nil {
		return wrap("client grant", rec.ClientID+" "+rec.Audience, err)
	}
	g.Revision = rec.Revision
	return nil
}

// GetClientGrant returns the client's grant for the API.
func (m *Admin) GetClientGrant(ctx context.Context, clientID, audience string) (*storage.ClientGrant, error) {
	g, err := m.store.ClientGrants().Get(ctx, storage.JoinKey(clientID, audience))
	return g, wrap("client grant", clientID+" "+audience, err)
}

// ListClientGrants returns one page of the client grants of the client,
// of every client when clientID is empty.
func (m *Admin) ListClientGrants(ctx context.Context, clientID string, q Query) (Page[storage.ClientGrant], error) {
	prefix := ""
	if clientID != "" {
		prefix = storage.JoinKey(clientID, "")
	}
	return list[storage.ClientGrant](ctx, m.store.ClientGrants(), prefix, q)
}

// UpdateClientGrant replaces the grant with g if g.Revision is the stored
// revision (storage.ErrConflict otherwise, nothing written), and sets the
// new revision in g.
func (m *Admin) UpdateClientGrant(ctx context.Context, g *storage.ClientGrant) (err error) {
	defer m.audit(ctx, "client_grant", storage.JoinKey(g.ClientID, g.Audience), "update", &err)
	rec := cloneGrant(g)
	if err := m.validateClientGrant(ctx, rec); err != nil {
		return err
	}
	if err := m.store.ClientGrants().Update(ctx, rec); err != nil {
		return wrap("client grant", rec.ClientID+" "+rec.Audience, err)
	}
	g.Revision = rec.Revision
	return nil
}

// DeleteClientGrant deletes the client's grant for the API. Tokens issued
// under it live until they expire.
func (m *Admin) DeleteClientGrant(ctx context.Context, clientID, audience string) (err error) {
	defer m.audit(ctx, "client_grant", storage.JoinKey(clientID, audience), "delete", &err)
	return wrap("client grant", clientID+" "+audience, m.store.ClientGrants().Delete(ctx, storage.JoinKey(clientID, audience)))
}

func cloneGrant(g *storage.ClientGrant) *storage.ClientGrant {
	r := *g
	r.Scopes = slices.Clone(g.Scopes)
	return &r
}
