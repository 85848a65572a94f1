package storagetest

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// testFamiliesBySubject checks ListFamilies: every stored family of the
// subject, revoked ones flagged, in full; no other subject's, tenant's, or
// refused family.
func testFamiliesBySubject(t *testing.T, newStore NewStore) {
	s := newStore(t)
	hour := time.Now().Add(time.Hour)
	of := func(id, sub string) *storage.Family {
		f := family(id, hour)
		f.Subject = sub
		return f
	}
	a1, a2 := of("fs-a1", "alice"), of("fs-a2", "alice")
	a2.ClientID, a2.Audience = "other-app", ""
	Expect(t, s.CreateFamily(bg, a1, refresh("fs-a1", "h1", hour)), nil, "CreateFamily a1")
	Expect(t, s.CreateFamily(bg, a2, nil), nil, "CreateFamily a2")
	Expect(t, s.CreateFamily(bg, of("fs-b1", "bob"), nil), nil, "CreateFamily b1")
	Expect(t, s.Tenant("t2").CreateFamily(bg, of("fs-t2", "alice"), nil), nil, "CreateFamily in another tenant")
	// A family revoked before it exists is refused: never listed, or listed
	// revoked.
	Expect(t, s.RevokeFamily(bg, "fs-tomb"), nil, "RevokeFamily tombstone")
	Expect(t, s.CreateFamily(bg, of("fs-tomb", "alice"), nil), storage.ErrRevoked, "CreateFamily tombstoned")
	Expect(t, s.RevokeFamily(bg, "fs-a2"), nil, "RevokeFamily a2")

	listed, err := s.ListFamilies(bg, "alice")
	Expect(t, err, nil, "ListFamilies alice")
	var got []*storage.Family
	for _, f := range listed {
		if f.ID == "fs-tomb" && f.Revoked {
			continue // stored revoked: allowed
		}
		got = append(got, f)
	}
	slices.SortFunc(got, func(x, y *storage.Family) int { return strings.Compare(x.ID, y.ID) })
	wantA2 := *a2
	wantA2.Revoked = true
	want := []*storage.Family{a1, &wantA2}
	if len(got) != len(want) {
		t.Fatalf("ListFamilies(alice) = %d families %v, want fs-a1 and fs-a2", len(got), ids(got))
	}
	for i := range want {
		g := *got[i]
		g.AuthTime, g.CreatedAt, g.ExpiresAt = ms(g.AuthTime), ms(g.CreatedAt), ms(g.ExpiresAt)
		if !reflect.DeepEqual(&g, want[i]) {
			t.Fatalf("ListFamilies(alice)[%d] = %+v, want %+v", i, g, want[i])
		}
	}
	// The caller owns what it got.
	got[0].Scopes[0] = "changed"
	again, err := s.ListFamilies(bg, "alice")
	Expect(t, err, nil, "ListFamilies again")
	for _, f := range again {
		if slices.Contains(f.Scopes, "changed") {
			t.Fatal("ListFamilies shares memory with the store")
		}
	}
	if b, err := s.ListFamilies(bg, "bob"); err != nil || len(b) != 1 || b[0].ID != "fs-b1" {
		t.Fatalf("ListFamilies(bob) = %v %v", ids(b), err)
	}
	if n, err := s.ListFamilies(bg, "nobody"); err != nil || len(n) != 0 {
		t.Fatalf("ListFamilies(nobody) = %v %v", ids(n), err)
	}
	if o, err := s.Tenant("t2").ListFamilies(bg, "alice"); err != nil || len(o) != 1 || o[0].ID != "fs-t2" {
		t.Fatalf("ListFamilies in another tenant = %v %v", ids(o), err)
	}
}

func ids(fs []*storage.Family) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}
