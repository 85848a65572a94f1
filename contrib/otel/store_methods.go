package skotel

import (
	"context"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// The methods of storage.Store, each in a span (TestStoreWrapsEveryMethod
// fails when one is missing).

// APIs implements storage.Directory: its calls are spans "storage.APIs.<Method>".
func (t *tracedStore) APIs() storage.Collection[storage.API] {
	return collection[storage.API]{c: t.Store.APIs(), in: t.in, name: "APIs"}
}

// Clients implements storage.Directory: its calls are spans "storage.Clients.<Method>".
func (t *tracedStore) Clients() storage.Collection[storage.Client] {
	return collection[storage.Client]{c: t.Store.Clients(), in: t.in, name: "Clients"}
}

// ClientGrants implements storage.Directory: its calls are spans "storage.ClientGrants.<Method>".
func (t *tracedStore) ClientGrants() storage.Collection[storage.ClientGrant] {
	return collection[storage.ClientGrant]{c: t.Store.ClientGrants(), in: t.in, name: "ClientGrants"}
}

// Users implements storage.Directory: its calls are spans "storage.Users.<Method>".
func (t *tracedStore) Users() storage.Collection[storage.User] {
	return collection[storage.User]{c: t.Store.Users(), in: t.in, name: "Users"}
}

// Roles implements storage.Directory: its calls are spans "storage.Roles.<Method>".
func (t *tracedStore) Roles() storage.Collection[storage.Role] {
	return collection[storage.Role]{c: t.Store.Roles(), in: t.in, name: "Roles"}
}

// Groups implements storage.Directory: its calls are spans "storage.Groups.<Method>".
func (t *tracedStore) Groups() storage.Collection[storage.Group] {
	return collection[storage.Group]{c: t.Store.Groups(), in: t.in, name: "Groups"}
}

// Consents implements storage.Directory: its calls are spans "storage.Consents.<Method>".
func (t *tracedStore) Consents() storage.Collection[storage.Consent] {
	return collection[storage.Consent]{c: t.Store.Consents(), in: t.in, name: "Consents"}
}

// Keys implements storage.Directory: its calls are spans "storage.Keys.<Method>".
func (t *tracedStore) Keys() storage.Collection[storage.SigningKey] {
	return collection[storage.SigningKey]{c: t.Store.Keys(), in: t.in, name: "Keys"}
}

// UsersByEmail implements storage.Store in a span.
func (t *tracedStore) UsersByEmail(ctx context.Context, email string, q storage.ListQuery) (storage.Page[storage.User], error) {
	return do(ctx, t.in, "UsersByEmail", func(ctx context.Context) (storage.Page[storage.User], error) {
		return t.Store.UsersByEmail(ctx, email, q)
	})
}

// GroupMembers implements storage.Store in a span.
func (t *tracedStore) GroupMembers(ctx context.Context, groupID string, q storage.ListQuery) (storage.Page[storage.User], error) {
	return do(ctx, t.in, "GroupMembers", func(ctx context.Context) (storage.Page[storage.User], error) {
		return t.Store.GroupMembers(ctx, groupID, q)
	})
}

// RoleUsers implements storage.Store in a span.
func (t *tracedStore) RoleUsers(ctx context.Context, roleID string, q storage.ListQuery) (storage.Page[storage.User], error) {
	return do(ctx, t.in, "RoleUsers", func(ctx context.Context) (storage.Page[storage.User], error) {
		return t.Store.RoleUsers(ctx, roleID, q)
	})
}

// RoleGroups implements storage.Store in a span.
func (t *tracedStore) RoleGroups(ctx context.Context, roleID string, q storage.ListQuery) (storage.Page[storage.Group], error) {
	return do(ctx, t.in, "RoleGroups", func(ctx context.Context) (storage.Page[storage.Group], error) {
		return t.Store.RoleGroups(ctx, roleID, q)
	})
}

// Resolve implements storage.Store in a span.
func (t *tracedStore) Resolve(ctx context.Context, clientID, audience string) (*storage.Resolution, error) {
	return do(ctx, t.in, "Resolve", func(ctx context.Context) (*storage.Resolution, error) {
		return t.Store.Resolve(ctx, clientID, audience)
	})
}

// CreateAuthRequest implements storage.Store in a span.
func (t *tracedStore) CreateAuthRequest(ctx context.Context, r *storage.AuthRequest) error {
	return do0(ctx, t.in, "CreateAuthRequest", func(ctx context.Context) error { return t.Store.CreateAuthRequest(ctx, r) })
}

// GetAuthRequest implements storage.Store in a span.
func (t *tracedStore) GetAuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	return do(ctx, t.in, "GetAuthRequest", func(ctx context.Context) (*storage.AuthRequest, error) { return t.Store.GetAuthRequest(ctx, id) })
}

// TakeAuthRequest implements storage.Store in a span.
func (t *tracedStore) TakeAuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	return do(ctx, t.in, "TakeAuthRequest", func(ctx context.Context) (*storage.AuthRequest, error) { return t.Store.TakeAuthRequest(ctx, id) })
}

// CreateCode implements storage.Store in a span.
func (t *tracedStore) CreateCode(ctx context.Context, c *storage.AuthCode) error {
	return do0(ctx, t.in, "CreateCode", func(ctx context.Context) error { return t.Store.CreateCode(ctx, c) })
}

// ConsumeCode implements storage.Store in a span.
func (t *tracedStore) ConsumeCode(ctx context.Context, hash string) (*storage.AuthCode, error) {
	return do(ctx, t.in, "ConsumeCode", func(ctx context.Context) (*storage.AuthCode, error) { return t.Store.ConsumeCode(ctx, hash) })
}

// CreateFamily implements storage.Store in a span.
func (t *tracedStore) CreateFamily(ctx context.Context, f *storage.Family, first *storage.RefreshToken) error {
	return do0(ctx, t.in, "CreateFamily", func(ctx context.Context) error { return t.Store.CreateFamily(ctx, f, first) })
}

// GetFamily implements storage.Store in a span.
func (t *tracedStore) GetFamily(ctx context.Context, id string) (*storage.Family, error) {
	return do(ctx, t.in, "GetFamily", func(ctx context.Context) (*storage.Family, error) { return t.Store.GetFamily(ctx, id) })
}

// GetRefresh implements storage.Store in a span.
func (t *tracedStore) GetRefresh(ctx context.Context, family, hash string) (*storage.RefreshToken, error) {
	return do(ctx, t.in, "GetRefresh", func(ctx context.Context) (*storage.RefreshToken, error) { return t.Store.GetRefresh(ctx, family, hash) })
}

// RotateRefresh implements storage.Store in a span.
func (t *tracedStore) RotateRefresh(ctx context.Context, family, oldHash string, next *storage.RefreshToken) (*storage.RefreshToken, error) {
	return do(ctx, t.in, "RotateRefresh", func(ctx context.Context) (*storage.RefreshToken, error) {
		return t.Store.RotateRefresh(ctx, family, oldHash, next)
	})
}

// RevokeFamily implements storage.Store in a span.
func (t *tracedStore) RevokeFamily(ctx context.Context, id string) error {
	return do0(ctx, t.in, "RevokeFamily", func(ctx context.Context) error { return t.Store.RevokeFamily(ctx, id) })
}

// ListFamilies implements storage.Store in a span.
func (t *tracedStore) ListFamilies(ctx context.Context, subject string) ([]*storage.Family, error) {
	return do(ctx, t.in, "ListFamilies", func(ctx context.Context) ([]*storage.Family, error) { return t.Store.ListFamilies(ctx, subject) })
}

// RevokeToken implements storage.Store in a span.
func (t *tracedStore) RevokeToken(ctx context.Context, r *storage.Revocation) error {
	return do0(ctx, t.in, "RevokeToken", func(ctx context.Context) error { return t.Store.RevokeToken(ctx, r) })
}

// TokenRevoked implements storage.Store in a span.
func (t *tracedStore) TokenRevoked(ctx context.Context, family, jti string) (bool, error) {
	return do(ctx, t.in, "TokenRevoked", func(ctx context.Context) (bool, error) { return t.Store.TokenRevoked(ctx, family, jti) })
}

// AppendAudit implements storage.Store in a span.
func (t *tracedStore) AppendAudit(ctx context.Context, r *storage.AuditRecord, keep int) error {
	return do0(ctx, t.in, "AppendAudit", func(ctx context.Context) error { return t.Store.AppendAudit(ctx, r, keep) })
}

// ListAudit implements storage.Store in a span.
func (t *tracedStore) ListAudit(ctx context.Context, q storage.AuditQuery) (*storage.AuditPage, error) {
	return do(ctx, t.in, "ListAudit", func(ctx context.Context) (*storage.AuditPage, error) { return t.Store.ListAudit(ctx, q) })
}

// UseOnce implements storage.Store in a span.
func (t *tracedStore) UseOnce(ctx context.Context, key string, expiresAt time.Time) (bool, error) {
	return do(ctx, t.in, "UseOnce", func(ctx context.Context) (bool, error) { return t.Store.UseOnce(ctx, key, expiresAt) })
}

// CreateDeviceCode implements storage.Store in a span.
func (t *tracedStore) CreateDeviceCode(ctx context.Context, d *storage.DeviceCode) error {
	return do0(ctx, t.in, "CreateDeviceCode", func(ctx context.Context) error { return t.Store.CreateDeviceCode(ctx, d) })
}

// GetDeviceCode implements storage.Store in a span.
func (t *tracedStore) GetDeviceCode(ctx context.Context, userCode string) (*storage.DeviceCode, error) {
	return do(ctx, t.in, "GetDeviceCode", func(ctx context.Context) (*storage.DeviceCode, error) { return t.Store.GetDeviceCode(ctx, userCode) })
}

// DecideDeviceCode implements storage.Store in a span.
func (t *tracedStore) DecideDeviceCode(ctx context.Context, userCode string, g *storage.DeviceGrant, retainUntil time.Time) error {
	return do0(ctx, t.in, "DecideDeviceCode", func(ctx context.Context) error { return t.Store.DecideDeviceCode(ctx, userCode, g, retainUntil) })
}

// PollDeviceCode implements storage.Store in a span.
func (t *tracedStore) PollDeviceCode(ctx context.Context, userCode, hash, clientID string) (*storage.DeviceCode, error) {
	return do(ctx, t.in, "PollDeviceCode", func(ctx context.Context) (*storage.DeviceCode, error) {
		return t.Store.PollDeviceCode(ctx, userCode, hash, clientID)
	})
}

// CountAttempt implements storage.Store in a span.
func (t *tracedStore) CountAttempt(ctx context.Context, key, id string, window time.Duration) (int64, error) {
	return do(ctx, t.in, "CountAttempt", func(ctx context.Context) (int64, error) { return t.Store.CountAttempt(ctx, key, id, window) })
}

// ForgetAttempt implements storage.Store in a span.
func (t *tracedStore) ForgetAttempt(ctx context.Context, key, id string) error {
	return do0(ctx, t.in, "ForgetAttempt", func(ctx context.Context) error { return t.Store.ForgetAttempt(ctx, key, id) })
}

// Tenants implements storage.Store with its methods in spans.
func (t *tracedStore) Tenants() storage.Collection[storage.Tenant] {
	return collection[storage.Tenant]{c: t.Store.Tenants(), in: t.in, name: "Tenants"}
}

// DropTenant implements storage.Store in a span.
func (t *tracedStore) DropTenant(ctx context.Context, id string) error {
	return do0(ctx, t.in, "DropTenant", func(ctx context.Context) error { return t.Store.DropTenant(ctx, id) })
}

// CreateOpaque implements storage.Store in a span.
func (t *tracedStore) CreateOpaque(ctx context.Context, o *storage.OpaqueToken) error {
	return do0(ctx, t.in, "CreateOpaque", func(ctx context.Context) error { return t.Store.CreateOpaque(ctx, o) })
}

// GetOpaque implements storage.Store in a span.
func (t *tracedStore) GetOpaque(ctx context.Context, family, hash string) (*storage.OpaqueToken, error) {
	return do(ctx, t.in, "GetOpaque", func(ctx context.Context) (*storage.OpaqueToken, error) { return t.Store.GetOpaque(ctx, family, hash) })
}

// RevokeOpaque implements storage.Store in a span.
func (t *tracedStore) RevokeOpaque(ctx context.Context, family, hash string) error {
	return do0(ctx, t.in, "RevokeOpaque", func(ctx context.Context) error { return t.Store.RevokeOpaque(ctx, family, hash) })
}

// CreateSession implements storage.Store in a span.
func (t *tracedStore) CreateSession(ctx context.Context, s *storage.OPSession) error {
	return do0(ctx, t.in, "CreateSession", func(ctx context.Context) error { return t.Store.CreateSession(ctx, s) })
}

// GetSession implements storage.Store in a span.
func (t *tracedStore) GetSession(ctx context.Context, id string) (*storage.OPSession, error) {
	return do(ctx, t.in, "GetSession", func(ctx context.Context) (*storage.OPSession, error) { return t.Store.GetSession(ctx, id) })
}

// AddSessionClient implements storage.Store in a span.
func (t *tracedStore) AddSessionClient(ctx context.Context, id string, c storage.SessionClient, seen time.Time) error {
	return do0(ctx, t.in, "AddSessionClient", func(ctx context.Context) error { return t.Store.AddSessionClient(ctx, id, c, seen) })
}

// ListSessions implements storage.Store in a span.
func (t *tracedStore) ListSessions(ctx context.Context, userID string) ([]*storage.OPSession, error) {
	return do(ctx, t.in, "ListSessions", func(ctx context.Context) ([]*storage.OPSession, error) { return t.Store.ListSessions(ctx, userID) })
}

// DeleteSession implements storage.Store in a span.
func (t *tracedStore) DeleteSession(ctx context.Context, id string) (*storage.OPSession, error) {
	return do(ctx, t.in, "DeleteSession", func(ctx context.Context) (*storage.OPSession, error) { return t.Store.DeleteSession(ctx, id) })
}
