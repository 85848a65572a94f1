package storagetest

import (
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// fillTenant writes one record of every kind into s.
func fillTenant(t *testing.T, s storage.Store, clk *Clock) {
	t.Helper()
	hour := clk.Now().Add(time.Hour)
	Expect(t, s.Clients().Create(bg, &storage.Client{ID: "app", Name: "app"}), nil, "client")
	Expect(t, s.APIs().Create(bg, &storage.API{Identifier: "https://api", Name: "api"}), nil, "api")
	Expect(t, s.ClientGrants().Create(bg, &storage.ClientGrant{ClientID: "app", Audience: "https://api", Scopes: []string{"x"}}), nil, "grant")
	Expect(t, s.Users().Create(bg, &storage.User{ID: "u1", Email: "u1@example.com", Groups: []string{"g1"}, Roles: []string{"r1"}}), nil, "user")
	Expect(t, s.Roles().Create(bg, &storage.Role{ID: "r1", Name: "r1"}), nil, "role")
	Expect(t, s.Groups().Create(bg, &storage.Group{ID: "g1", Name: "g1", Roles: []string{"r1"}}), nil, "group")
	Expect(t, s.Consents().Create(bg, &storage.Consent{UserID: "u1", ClientID: "app", Audience: "https://api", Scopes: []string{"x"}}), nil, "consent")
	Expect(t, s.Keys().Create(bg, &storage.SigningKey{ID: "k1", Alg: "RS256", JWK: []byte(`{}`)}), nil, "key")
	Expect(t, s.Tenants().Create(bg, &storage.Tenant{ID: "sub", CreatedAt: ms(clk.Now())}), nil, "tenant record")
	Expect(t, s.CreateCode(bg, code("h1", hour)), nil, "code")
	Expect(t, s.CreateAuthRequest(bg, authRequest("r1", hour)), nil, "request")
	Expect(t, s.CreateFamily(bg, family("f1", hour), refresh("f1", "t1", hour)), nil, "family")
	Expect(t, s.RevokeToken(bg, &storage.Revocation{JTI: "j1", ExpiresAt: ms(hour)}), nil, "revocation")
	Expect(t, s.RevokeFamily(bg, "tomb"), nil, "family tombstone")
	Expect(t, s.AppendAudit(bg, &storage.AuditRecord{Time: ms(clk.Now()), Kind: "admin.write", ExpiresAt: ms(hour)}, 10), nil, "audit")
	if fresh, err := s.UseOnce(bg, "jti-1", hour); err != nil || !fresh {
		t.Fatalf("UseOnce: %v %v", fresh, err)
	}
	Expect(t, s.CreateDeviceCode(bg, deviceCode("U1", clk)), nil, "device code")
	if _, err := s.CountAttempt(bg, "ip", "a1", time.Hour); err != nil {
		t.Fatalf("CountAttempt: %v", err)
	}
}

// checkFilled fails unless s holds the records fillTenant wrote.
func checkFilled(t *testing.T, s storage.Store, what string) {
	t.Helper()
	if c, err := s.Clients().Get(bg, "app"); err != nil || c.Name != "app" {
		t.Fatalf("%s: client %v %v", what, c, err)
	}
	if _, err := s.GetFamily(bg, "f1"); err != nil {
		t.Fatalf("%s: family %v", what, err)
	}
	if revoked, err := s.TokenRevoked(bg, "", "j1"); err != nil || !revoked {
		t.Fatalf("%s: revocation %v %v", what, revoked, err)
	}
	if _, err := s.GetDeviceCode(bg, "U1"); err != nil {
		t.Fatalf("%s: device code %v", what, err)
	}
	if p, err := s.ListAudit(bg, storage.AuditQuery{}); err != nil || len(p.Records) != 1 {
		t.Fatalf("%s: audit %v %v", what, p, err)
	}
}

func testDropTenant(t *testing.T, newStore NewStore) {
	clk := NewClock()
	root := newStore(t).WithClock(clk.Now)
	// Survivors: the root, a tenant whose id extends the dropped one's, and
	// one whose id would extend its key prefix if ids were not escaped.
	dropped := root.Tenant("acme")
	others := map[string]storage.Store{"root": root, "acme2": root.Tenant("acme2"), "acme:eu": root.Tenant("acme:eu")}
	fillTenant(t, dropped, clk)
	for name, s := range others {
		t.Run("fill "+name, func(t *testing.T) { fillTenant(t, s, clk) })
	}
	Expect(t, root.Tenants().Create(bg, &storage.Tenant{ID: "acme", Name: "Acme", CreatedAt: ms(clk.Now())}), nil, "root's record of acme")

	Expect(t, root.DropTenant(bg, ""), storage.ErrInvalid, "drop the root")
	Expect(t, root.DropTenant(bg, "acme"), nil, "DropTenant")
	Expect(t, root.DropTenant(bg, "acme"), nil, "DropTenant again")
	Expect(t, root.DropTenant(bg, "never-existed"), nil, "DropTenant of an empty tenant")

	for _, lst := range []struct {
		name string
		n    func() (int, error)
	}{
		{"clients", func() (int, error) { l, err := storage.All(bg, dropped.Clients(), ""); return len(l), err }},
		{"apis", func() (int, error) { l, err := storage.All(bg, dropped.APIs(), ""); return len(l), err }},
		{"grants", func() (int, error) { l, err := storage.All(bg, dropped.ClientGrants(), ""); return len(l), err }},
		{"users", func() (int, error) { l, err := storage.All(bg, dropped.Users(), ""); return len(l), err }},
		{"roles", func() (int, error) { l, err := storage.All(bg, dropped.Roles(), ""); return len(l), err }},
		{"groups", func() (int, error) { l, err := storage.All(bg, dropped.Groups(), ""); return len(l), err }},
		{"consents", func() (int, error) { l, err := storage.All(bg, dropped.Consents(), ""); return len(l), err }},
		{"keys", func() (int, error) { l, err := storage.All(bg, dropped.Keys(), ""); return len(l), err }},
		{"tenants", func() (int, error) { l, err := storage.All(bg, dropped.Tenants(), ""); return len(l), err }},
		{"users by email", func() (int, error) {
			p, err := dropped.UsersByEmail(bg, "u1@example.com", storage.ListQuery{})
			return len(p.Items), err
		}},
		{"group members", func() (int, error) {
			p, err := dropped.GroupMembers(bg, "g1", storage.ListQuery{})
			return len(p.Items), err
		}},
		{"role groups", func() (int, error) {
			p, err := dropped.RoleGroups(bg, "r1", storage.ListQuery{})
			return len(p.Items), err
		}},
		{"audit", func() (int, error) { p, err := dropped.ListAudit(bg, storage.AuditQuery{}); return len(p.Records), err }},
	} {
		if n, err := lst.n(); err != nil || n != 0 {
			t.Fatalf("after DropTenant, %s: %d left (%v)", lst.name, n, err)
		}
	}
	_, err := dropped.ConsumeCode(bg, "h1")
	Expect(t, err, storage.ErrNotFound, "code after drop")
	_, err = dropped.GetAuthRequest(bg, "r1")
	Expect(t, err, storage.ErrNotFound, "request after drop")
	_, err = dropped.GetFamily(bg, "f1")
	Expect(t, err, storage.ErrNotFound, "family after drop")
	_, err = dropped.GetDeviceCode(bg, "U1")
	Expect(t, err, storage.ErrNotFound, "device code after drop")
	if revoked, err := dropped.TokenRevoked(bg, "tomb", "j1"); err != nil || revoked {
		t.Fatalf("revocations after drop: %v %v", revoked, err)
	}
	if n, err := dropped.CountAttempt(bg, "ip", "a2", time.Hour); err != nil || n != 1 {
		t.Fatalf("attempts after drop: %d %v", n, err)
	}
	// Everything can be written again: nothing of the old tenant is left
	// to collide with (single-use keys, tombstones, unique ids).
	hour := clk.Now().Add(time.Hour)
	Expect(t, dropped.CreateFamily(bg, family("tomb", hour), nil), nil, "family of a dropped tombstone")
	fillTenant(t, dropped, clk)

	for name, s := range others {
		checkFilled(t, s, name)
	}
	if rec, err := root.Tenants().Get(bg, "acme"); err != nil || rec.Name != "Acme" {
		t.Fatalf("the root's tenant record: %v %v", rec, err)
	}
}
