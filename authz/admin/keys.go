package admin

import (
	"context"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// ListKeys returns one page of the signing keys, by kid, without their
// private JWK: what they are, never what they hold.
func (m *Admin) ListKeys(ctx context.Context, q Query) (Page[storage.SigningKey], error) {
	page, err := list[storage.SigningKey](ctx, m.store.Keys(), "", q)
	// The collection also holds the server's retry secret, which is no
	// signing key: only records of a signing algorithm are listed.
	keys := page.Items[:0]
	for _, k := range page.Items {
		if token.Supported(k.Alg) {
			k.JWK = nil
			keys = append(keys, k)
		}
	}
	page.Items = keys
	return page, err
}

// RotateKey creates a signing key for alg that signs from now on
// (authz.Server.RotateKey).
func (m *Admin) RotateKey(ctx context.Context, alg string) (kid string, err error) {
	defer func() { m.audit(ctx, "key", kid, "rotate", &err) }()
	c := checker{kind: "signing_key"}
	c.checkAlg("alg", alg)
	if alg == "" {
		c.bad("alg", "is required")
	}
	if err := c.err(); err != nil {
		return "", err
	}
	return m.srv.RotateKey(ctx, alg)
}

// RetireKey stops the key signing; it stays published for verification
// (authz.Server.RetireKey).
func (m *Admin) RetireKey(ctx context.Context, kid string) (err error) {
	defer m.audit(ctx, "key", kid, "retire", &err)
	return wrap("signing key", kid, m.srv.RetireKey(ctx, kid))
}

// RemoveKey deletes the key: every token it signed stops verifying
// (authz.Server.RemoveKey).
func (m *Admin) RemoveKey(ctx context.Context, kid string) (err error) {
	defer m.audit(ctx, "key", kid, "remove", &err)
	return wrap("signing key", kid, m.srv.RemoveKey(ctx, kid))
}
