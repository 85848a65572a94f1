package storagetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
)

func opaque(fam, hash string, exp time.Time) *storage.OpaqueToken {
	return &storage.OpaqueToken{Hash: hash, Family: fam, JTI: "j-" + hash, ClientID: "app", Subject: "alice",
		Audience: []string{"https://api.example"}, Scope: "read write", Claims: `{"tier":"gold"}`,
		IssuedAt: ms(time.Now()), ExpiresAt: ms(exp)}
}

func testOpaque(t *testing.T, newStore NewStore) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		in := opaque("", "h1", time.Now().Add(time.Hour))
		Expect(t, s.CreateOpaque(bg, in), nil, "CreateOpaque")
		in.Audience[0] = "changed after the write"
		got, err := s.GetOpaque(bg, "", "h1")
		Expect(t, err, nil, "GetOpaque")
		want := opaque("", "h1", in.ExpiresAt)
		want.IssuedAt = in.IssuedAt
		got.IssuedAt, got.ExpiresAt = ms(got.IssuedAt), ms(got.ExpiresAt)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("GetOpaque = %+v, want %+v", got, want)
		}
		Expect(t, s.CreateOpaque(bg, opaque("", "h1", time.Now().Add(time.Hour))), storage.ErrDuplicate, "CreateOpaque twice")
		_, err = s.GetOpaque(bg, "", "nope")
		Expect(t, err, storage.ErrNotFound, "GetOpaque unknown")
		_, err = s.GetOpaque(bg, "other-family", "h1")
		Expect(t, err, storage.ErrNotFound, "GetOpaque with another family")
		Expect(t, s.CreateOpaque(bg, &storage.OpaqueToken{Hash: "h2"}), storage.ErrInvalid, "CreateOpaque without expiry")
		Expect(t, s.CreateOpaque(bg, &storage.OpaqueToken{ExpiresAt: time.Now().Add(time.Hour)}), storage.ErrInvalid, "CreateOpaque without hash")
	})
	t.Run("Revoke", func(t *testing.T) {
		s := newStore(t)
		Expect(t, s.CreateOpaque(bg, opaque("", "h1", time.Now().Add(time.Hour))), nil, "CreateOpaque")
		Expect(t, s.CreateOpaque(bg, opaque("", "h2", time.Now().Add(time.Hour))), nil, "CreateOpaque")
		Expect(t, s.RevokeOpaque(bg, "", "h1"), nil, "RevokeOpaque")
		Expect(t, s.RevokeOpaque(bg, "", "h1"), nil, "RevokeOpaque twice")
		_, err := s.GetOpaque(bg, "", "h1")
		Expect(t, err, storage.ErrRevoked, "GetOpaque revoked")
		_, err = s.GetOpaque(bg, "", "h2")
		Expect(t, err, nil, "GetOpaque of another token")
		Expect(t, s.RevokeOpaque(bg, "", "nope"), storage.ErrNotFound, "RevokeOpaque unknown")
	})
	t.Run("FamilyRevocation", func(t *testing.T) {
		s := newStore(t)
		exp := time.Now().Add(time.Hour)
		Expect(t, s.CreateFamily(bg, family("fam1", exp), nil), nil, "CreateFamily")
		Expect(t, s.CreateOpaque(bg, opaque("fam1", "h1", exp)), nil, "CreateOpaque")
		Expect(t, s.CreateOpaque(bg, opaque("fam2", "h2", exp)), nil, "CreateOpaque of a family not stored")
		_, err := s.GetOpaque(bg, "fam1", "h1")
		Expect(t, err, nil, "GetOpaque before the family's revocation")
		Expect(t, s.RevokeFamily(bg, "fam1"), nil, "RevokeFamily")
		_, err = s.GetOpaque(bg, "fam1", "h1")
		Expect(t, err, storage.ErrRevoked, "GetOpaque after the family's revocation")
		_, err = s.GetOpaque(bg, "fam2", "h2")
		Expect(t, err, nil, "GetOpaque of another family")
		// A revocation recorded as a tombstone counts too.
		Expect(t, s.RevokeFamily(bg, "fam2"), nil, "RevokeFamily tombstone")
		_, err = s.GetOpaque(bg, "fam2", "h2")
		Expect(t, err, storage.ErrRevoked, "GetOpaque after the tombstone")
	})
	t.Run("Expiry", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		Expect(t, s.CreateOpaque(bg, opaque("", "h1", clk.Now().Add(time.Minute))), nil, "CreateOpaque")
		clk.Advance(time.Minute - time.Millisecond)
		_, err := s.GetOpaque(bg, "", "h1")
		Expect(t, err, nil, "GetOpaque just before the expiry")
		clk.Advance(time.Millisecond)
		_, err = s.GetOpaque(bg, "", "h1")
		Expect(t, err, storage.ErrNotFound, "GetOpaque at the expiry on the store's clock")
		Expect(t, s.RevokeOpaque(bg, "", "h1"), storage.ErrNotFound, "RevokeOpaque expired")
		Expect(t, s.CreateOpaque(bg, opaque("", "h1", clk.Now().Add(time.Minute))), nil, "CreateOpaque over an expired token")
	})
	t.Run("Tenants", func(t *testing.T) {
		root := newStore(t)
		a, b := root.Tenant("acme"), root.Tenant("globex")
		Expect(t, a.CreateOpaque(bg, opaque("", "h1", time.Now().Add(time.Hour))), nil, "CreateOpaque")
		_, err := b.GetOpaque(bg, "", "h1")
		Expect(t, err, storage.ErrNotFound, "GetOpaque in another tenant")
		Expect(t, b.RevokeOpaque(bg, "", "h1"), storage.ErrNotFound, "RevokeOpaque in another tenant")
		Expect(t, b.CreateOpaque(bg, opaque("", "h1", time.Now().Add(time.Hour))), nil, "CreateOpaque of the same hash in another tenant")
		_, err = a.GetOpaque(bg, "", "h1")
		Expect(t, err, nil, "GetOpaque in its tenant")
	})
}
