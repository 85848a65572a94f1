package admin

import (
	"context"
	"fmt"
	"slices"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// Bounds of a client secret set by SetClientSecret. A secret is compared as
// a fast hash, so it must be random and long, never a password.
const (
	// MinSecretBytes is the shortest secret: 32 characters, as many as 192
	// bits of base64url (generated secrets have 43, for 256 bits).
	MinSecretBytes = 32
	// MaxSecretBytes is the longest secret.
	MaxSecretBytes = 512
)

// responseTypes are the response_type values a client may list.
var responseTypes = []string{"code", "id_token", "id_token token"}

// validateClient is the one check of a client record: authz.CheckClient
// (identifier, auth method, ID-token algorithm, redirect URIs), then the
// name, grant types the server runs, response types and the APIs of
// introspect_audiences.
func (m *Admin) validateClient(ctx context.Context, cl *storage.Client) error {
	c := checker{kind: "client"}
	authz.CheckClient(cl, func(field string, err error) { c.bad(field, "%v", err) })
	c.checkText("client_name", cl.Name, MaxNameBytes, false)
	c.checkCount("redirect_uris", len(cl.RedirectURIs), MaxListItems)
	c.unique("redirect_uris", cl.RedirectURIs)
	c.checkCount("post_logout_redirect_uris", len(cl.PostLogoutRedirectURIs), MaxListItems)
	c.unique("post_logout_redirect_uris", cl.PostLogoutRedirectURIs)
	grants := append(m.srv.GrantTypes(), "implicit")
	if c.checkCount("grant_types", len(cl.GrantTypes), MaxListItems) {
		for i, g := range cl.GrantTypes {
			if !slices.Contains(grants, g) {
				c.bad(fmt.Sprintf("grant_types[%d]", i), "%q is not a grant type the server runs (%v)", g, grants)
			}
		}
		c.unique("grant_types", cl.GrantTypes)
	}
	for i, rt := range cl.ResponseTypes {
		if !slices.Contains(responseTypes, rt) {
			c.bad(fmt.Sprintf("response_types[%d]", i), "must be one of %q", responseTypes)
		}
	}
	c.unique("response_types", cl.ResponseTypes)
	c.checkCount("allowed_origins", len(cl.AllowedOrigins), MaxListItems)
	c.unique("allowed_origins", cl.AllowedOrigins)
	if c.checkCount("introspect_audiences", len(cl.IntrospectAudiences), MaxListItems) {
		for i, aud := range cl.IntrospectAudiences {
			if err := m.refAPI(ctx, &c, fmt.Sprintf("introspect_audiences[%d]", i), aud); err != nil {
				return err
			}
		}
		c.unique("introspect_audiences", cl.IntrospectAudiences)
	}
	return c.err()
}

// refAPI checks that the API aud exists; only a backend failure is returned.
func (m *Admin) refAPI(ctx context.Context, c *checker, field, aud string) error {
	ok, err := exists(ctx, m.store.APIs(), aud)
	if err == nil && !ok {
		c.bad(field, "no API has the identifier %q", aud)
	}
	return err
}

// CreateClient validates and registers a client through
// authz.Server.CreateClient: an empty ID is generated, and a confidential
// client gets a new secret, returned here only. The stored client is
// written back into cl.
func (m *Admin) CreateClient(ctx context.Context, cl *storage.Client) (secret string, err error) {
	defer func() { m.audit(ctx, "client", cl.ID, "create", &err) }()
	rec := cloneClient(cl)
	if rec.ID == "" {
		rec.ID = token.Random(16)
	}
	rec.SecretHash = nil
	if err := m.validateClient(ctx, rec); err != nil {
		return "", err
	}
	secret, err = m.srv.CreateClient(ctx, rec)
	if err != nil {
		return "", wrap("client", rec.ID, err)
	}
	*cl = *rec
	return secret, nil
}

// GetClient returns the client; storage.ErrNotFound if none.
func (m *Admin) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	c, err := m.store.Clients().Get(ctx, id)
	return c, wrap("client", id, err)
}

// ListClients returns one page of the clients, by id.
func (m *Admin) ListClients(ctx context.Context, q Query) (Page[storage.Client], error) {
	return list[storage.Client](ctx, m.store.Clients(), "", q)
}

// UpdateClient replaces the client cl.ID with cl, if cl.Revision is the
// stored revision (storage.ErrConflict otherwise, nothing written), and
// sets the new revision in cl. The secret and the creation time are kept
// as stored (change the secret with RotateClientSecret); Public cannot
// change.
func (m *Admin) UpdateClient(ctx context.Context, cl *storage.Client) (err error) {
	defer m.audit(ctx, "client", cl.ID, "update", &err)
	rec := cloneClient(cl)
	old, err := m.store.Clients().Get(ctx, rec.ID)
	if err != nil {
		return wrap("client", rec.ID, err)
	}
	if old.Revision != rec.Revision {
		return wrap("client", rec.ID, storage.ErrConflict)
	}
	// Whether a client can keep a secret is what it is, checked before
	// the rest (which would only report what follows from changing it).
	if old.Public != rec.Public {
		c := checker{kind: "client"}
		c.bad("public", "cannot change: register a new client")
		return c.err()
	}
	if err := m.validateClient(ctx, rec); err != nil {
		return err
	}
	rec.SecretHash, rec.CreatedAt = old.SecretHash, old.CreatedAt
	if err := m.store.Clients().Update(ctx, rec); err != nil {
		return wrap("client", rec.ID, err)
	}
	cl.Revision, cl.SecretHash, cl.CreatedAt = rec.Revision, rec.SecretHash, rec.CreatedAt
	return nil
}

// RotateClientSecret gives a confidential client a new secret
// (authz.Server.RotateClientSecret); the old one stops working at once.
func (m *Admin) RotateClientSecret(ctx context.Context, id string) (secret string, err error) {
	defer m.audit(ctx, "client", id, "rotate_secret", &err)
	s, err := m.srv.RotateClientSecret(ctx, id)
	return s, wrap("client", id, err)
}

// SetClientSecret sets a confidential client's secret to one the caller
// chose (a secret provisioned elsewhere), of MinSecretBytes to
// MaxSecretBytes; the old one stops working at once.
func (m *Admin) SetClientSecret(ctx context.Context, id, secret string) (err error) {
	defer m.audit(ctx, "client", id, "set_secret", &err)
	if len(secret) < MinSecretBytes || len(secret) > MaxSecretBytes {
		c := checker{kind: "client"}
		c.bad("client_secret", "must be at least %d characters of random data (at most %d); leave it out to get a generated one", MinSecretBytes, MaxSecretBytes)
		return c.err()
	}
	err = storage.Revise(ctx, m.store.Clients(), id, nil, func(cl *storage.Client) error {
		if cl.Public {
			c := checker{kind: "client"}
			c.bad("client_secret", "a public client has no secret")
			return c.err()
		}
		cl.SecretHash = token.SecretHash(secret)
		return nil
	})
	return wrap("client", id, err)
}

// DeleteClient deletes the client, revokes every token family issued to it
// (its refresh tokens and the access tokens of those families stop
// working), and deletes its client grants and consents.
func (m *Admin) DeleteClient(ctx context.Context, id string) (err error) {
	defer m.audit(ctx, "client", id, "delete", &err)
	gone := m.store.Clients().Delete(ctx, id)
	if gone != nil && !isNotFound(gone) {
		return wrap("client", id, gone)
	}
	if err := m.revokeClientFamilies(ctx, id); err != nil {
		return err
	}
	err = each[storage.ClientGrant](ctx, m.store.ClientGrants(), storage.JoinKey(id, ""), func(g *storage.ClientGrant) error {
		return ignoreNotFound(m.store.ClientGrants().Delete(ctx, g.Key()))
	})
	if err != nil {
		return err
	}
	err = each[storage.Consent](ctx, m.store.Consents(), "", func(c *storage.Consent) error {
		if c.ClientID != id {
			return nil
		}
		return ignoreNotFound(m.store.Consents().Delete(ctx, c.Key()))
	})
	return firstErr(err, wrap("client", id, gone))
}

// cloneClient copies a client so that nothing the caller holds is stored.
func cloneClient(c *storage.Client) *storage.Client {
	r := *c
	r.SecretHash = slices.Clone(c.SecretHash)
	r.RedirectURIs = slices.Clone(c.RedirectURIs)
	r.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
	r.GrantTypes = slices.Clone(c.GrantTypes)
	r.ResponseTypes = slices.Clone(c.ResponseTypes)
	r.IntrospectAudiences = slices.Clone(c.IntrospectAudiences)
	r.AllowedOrigins = slices.Clone(c.AllowedOrigins)
	r.JWKS = slices.Clone(c.JWKS)
	return &r
}

// revokeClientFamilies revokes the live families issued to the client
// (eachClientFamily: a walk of the users, paid by client deletion alone).
func (m *Admin) revokeClientFamilies(ctx context.Context, id string) error {
	return m.eachClientFamily(ctx, id, func(f *storage.Family) error {
		if f.Revoked {
			return nil
		}
		return m.store.RevokeFamily(ctx, f.ID)
	})
}
