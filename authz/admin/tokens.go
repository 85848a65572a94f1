package admin

import (
	"context"

	"github.com/scopekit/scopekit/storage"
)

// ListFamilies returns the live token families of the subject (a user id),
// revoked or not.
func (m *Admin) ListFamilies(ctx context.Context, subject string) ([]*storage.Family, error) {
	return m.store.ListFamilies(ctx, subject)
}

// RevokeFamily revokes a token family: its refresh tokens stop working and
// its access tokens are reported revoked (RFC 7009 §2.1).
func (m *Admin) RevokeFamily(ctx context.Context, id string) (err error) {
	defer m.audit(ctx, "family", id, "revoke", &err)
	return m.store.RevokeFamily(ctx, id)
}
