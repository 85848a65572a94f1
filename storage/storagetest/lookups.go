package storagetest

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/storage"
)

// lookupIDs pages through a lookup with pages of limit and returns the ids
// found; each record must equal what Get returns.
func lookupIDs[T any](t *testing.T, s storage.Store, get func(string) (*T, error), list lister[T], limit int) []string {
	t.Helper()
	var ids []string
	q := storage.ListQuery{Limit: limit}
	for n := 0; ; n++ {
		p, err := list(q)
		Expect(t, err, nil, "lookup")
		for _, r := range p.Items {
			k := record(r).Key()
			stored, err := get(k)
			Expect(t, err, nil, "Get of a record a lookup returned")
			if !reflect.DeepEqual(r, stored) {
				t.Fatalf("lookup returned %#v, Get %#v", r, stored)
			}
			ids = append(ids, k)
		}
		if p.Next == "" {
			return ids
		}
		if n > 1000 {
			t.Fatal("lookup paging does not end")
		}
		q.After = p.Next
	}
}

// testLookups checks the directory's lookups against its records through
// creates, updates and deletes, in every tenant.
func testLookups(t *testing.T, newStore NewStore) {
	check := func(t *testing.T, s storage.Store, what string, got []string, want ...string) {
		t.Helper()
		if len(want) == 0 {
			want = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s = %q, want %q", what, got, want)
		}
	}
	getUser := func(s storage.Store) func(string) (*storage.User, error) {
		return func(id string) (*storage.User, error) { return s.Users().Get(bg, id) }
	}
	byEmail := func(s storage.Store, email string, limit int) []string {
		return lookupIDs(t, s, getUser(s), func(q storage.ListQuery) (storage.Page[storage.User], error) { return s.UsersByEmail(bg, email, q) }, limit)
	}
	members := func(s storage.Store, group string, limit int) []string {
		return lookupIDs(t, s, getUser(s), func(q storage.ListQuery) (storage.Page[storage.User], error) { return s.GroupMembers(bg, group, q) }, limit)
	}
	roleUsers := func(s storage.Store, role string, limit int) []string {
		return lookupIDs(t, s, getUser(s), func(q storage.ListQuery) (storage.Page[storage.User], error) { return s.RoleUsers(bg, role, q) }, limit)
	}
	roleGroups := func(s storage.Store, role string, limit int) []string {
		get := func(id string) (*storage.Group, error) { return s.Groups().Get(bg, id) }
		return lookupIDs(t, s, get, func(q storage.ListQuery) (storage.Page[storage.Group], error) { return s.RoleGroups(bg, role, q) }, limit)
	}

	t.Run("FollowWrites", func(t *testing.T) {
		s := newStore(t)
		alice := putUser(t, s, "alice", "Alice@Example.com", []string{"g1", "g2", "g1"}, []string{"r1"})
		putUser(t, s, "bob", "alice@example.COM", nil, nil)
		carol := putUser(t, s, "carol", "carol@example.com", []string{"g1"}, []string{"r1", "r2"})
		putUser(t, s, "dave", "", nil, nil)
		for _, g := range []*storage.Group{{ID: "g1", Roles: []string{"r1"}}, {ID: "g2", Roles: []string{"r2", "r1", "r2"}}, {ID: "g3"}} {
			Expect(t, s.Groups().Create(bg, g), nil, "Create group")
		}
		check(t, s, "UsersByEmail(ALICE@example.com)", byEmail(s, "ALICE@example.com", 1), "alice", "bob")
		check(t, s, "UsersByEmail(nobody)", byEmail(s, "nobody@example.com", 10))
		check(t, s, "GroupMembers(g1)", members(s, "g1", 1), "alice", "carol")
		check(t, s, "GroupMembers(g2)", members(s, "g2", 10), "alice")
		check(t, s, "GroupMembers(g3)", members(s, "g3", 10))
		check(t, s, "RoleUsers(r1)", roleUsers(s, "r1", 10), "alice", "carol")
		check(t, s, "RoleUsers(r2)", roleUsers(s, "r2", 10), "carol")
		check(t, s, "RoleGroups(r1)", roleGroups(s, "r1", 1), "g1", "g2")
		check(t, s, "RoleGroups(r2)", roleGroups(s, "r2", 10), "g2")

		// alice moves from g1 to g3, changes her e-mail, loses r1.
		alice.Groups, alice.Email, alice.Roles = []string{"g3", "g2"}, "new@example.com", []string{"r2"}
		stale := *alice
		Expect(t, s.Users().Update(bg, alice), nil, "Update alice")
		check(t, s, "GroupMembers(g1) after the move", members(s, "g1", 10), "carol")
		check(t, s, "GroupMembers(g3) after the move", members(s, "g3", 10), "alice")
		check(t, s, "UsersByEmail(old) after the change", byEmail(s, "alice@example.com", 10), "bob")
		check(t, s, "UsersByEmail(new)", byEmail(s, "NEW@example.com", 10), "alice")
		check(t, s, "RoleUsers(r1) after the change", roleUsers(s, "r1", 10), "carol")
		check(t, s, "RoleUsers(r2) after the change", roleUsers(s, "r2", 10), "alice", "carol")

		// An update that loses the race changes no index.
		stale.Groups = []string{"g1"}
		Expect(t, s.Users().Update(bg, &stale), storage.ErrConflict, "stale Update")
		check(t, s, "GroupMembers(g1) after a conflict", members(s, "g1", 10), "carol")
		check(t, s, "GroupMembers(g3) after a conflict", members(s, "g3", 10), "alice")

		g2, err := s.Groups().Get(bg, "g2")
		Expect(t, err, nil, "Get g2")
		g2.Roles = []string{"r2"}
		Expect(t, s.Groups().Update(bg, g2), nil, "Update g2")
		check(t, s, "RoleGroups(r1) after the update", roleGroups(s, "r1", 10), "g1")

		Expect(t, s.Users().Delete(bg, "carol"), nil, "Delete carol")
		check(t, s, "GroupMembers(g1) after the delete", members(s, "g1", 10))
		check(t, s, "RoleUsers(r2) after the delete", roleUsers(s, "r2", 10), "alice")
		check(t, s, "UsersByEmail(carol) after the delete", byEmail(s, carol.Email, 10))
		Expect(t, s.Groups().Delete(bg, "g1"), nil, "Delete g1")
		check(t, s, "RoleGroups(r1) after the delete", roleGroups(s, "r1", 10))

		// A user created again under a deleted id is indexed afresh.
		putUser(t, s, "carol", "", []string{"g2"}, nil)
		check(t, s, "GroupMembers(g2) after re-creating carol", members(s, "g2", 10), "alice", "carol")
		check(t, s, "RoleUsers(r1) after re-creating carol", roleUsers(s, "r1", 10))
	})
	t.Run("Paged", func(t *testing.T) {
		s := newStore(t)
		var want, wantA []string
		for i := 12; i >= 1; i-- {
			id := fmt.Sprintf("b|%02d", i)
			if i%2 == 0 {
				id = fmt.Sprintf("a|%02d", i)
				wantA = append([]string{id}, wantA...)
			}
			want = append(want, id)
			putUser(t, s, id, "Same@Example.com", []string{"big"}, []string{"big"})
			putUser(t, s, "other"+id, "other@example.com", []string{"small"}, nil)
		}
		sort.Strings(want)
		for _, limit := range []int{1, 5, 12, 13} {
			check(t, s, fmt.Sprintf("GroupMembers(big) by %d", limit), members(s, "big", limit), want...)
			check(t, s, fmt.Sprintf("RoleUsers(big) by %d", limit), roleUsers(s, "big", limit), want...)
			check(t, s, fmt.Sprintf("UsersByEmail by %d", limit), byEmail(s, "same@example.com", limit), want...)
			got := flat(pageAll(t, func(q storage.ListQuery) (storage.Page[storage.User], error) { return s.GroupMembers(bg, "big", q) }, "a|", limit))
			check(t, s, fmt.Sprintf("GroupMembers(big) prefix a| by %d", limit), got, wantA...)
		}
	})
	t.Run("InvalidValues", func(t *testing.T) {
		s := newStore(t)
		long := strings.Repeat("a", storage.MaxEmailBytes) + "@example.com"
		putUser(t, s, "u", long, nil, nil)
		putUser(t, s, "v", "bad\xff@example.com", nil, nil)
		for name, email := range map[string]string{"empty": "", "too long": long, "not UTF-8": "bad\xff@example.com"} {
			_, err := s.UsersByEmail(bg, email, storage.ListQuery{})
			Expect(t, err, storage.ErrInvalid, "UsersByEmail of an address "+name)
		}
		_, err := s.GroupMembers(bg, "", storage.ListQuery{})
		Expect(t, err, storage.ErrInvalid, "GroupMembers of no group")
		_, err = s.RoleUsers(bg, "", storage.ListQuery{})
		Expect(t, err, storage.ErrInvalid, "RoleUsers of no role")
		_, err = s.RoleGroups(bg, strings.Repeat("r", storage.MaxEmailBytes+1), storage.ListQuery{})
		Expect(t, err, storage.ErrInvalid, "RoleGroups of a role id too long")
	})
	t.Run("Tenants", func(t *testing.T) {
		root := newStore(t)
		a, b := root.Tenant("a"), root.Tenant("b")
		putUser(t, a, "alice", "alice@example.com", []string{"g"}, []string{"r"})
		putUser(t, b, "alice", "other@example.com", []string{"h"}, nil)
		Expect(t, a.Groups().Create(bg, &storage.Group{ID: "g", Roles: []string{"r"}}), nil, "group in a")
		check(t, b, "GroupMembers(g) in b", members(b, "g", 10))
		check(t, b, "RoleUsers(r) in b", roleUsers(b, "r", 10))
		check(t, b, "RoleGroups(r) in b", roleGroups(b, "r", 10))
		check(t, b, "UsersByEmail(alice) in b", byEmail(b, "alice@example.com", 10))
		check(t, root, "GroupMembers(g) in the default tenant", members(root, "g", 10))
		check(t, a, "GroupMembers(g) in a", members(a, "g", 10), "alice")
		check(t, a, "GroupMembers(h) in a", members(a, "h", 10))
		check(t, b, "GroupMembers(h) in b", members(b, "h", 10), "alice")
		Expect(t, b.Users().Delete(bg, "alice"), nil, "Delete alice in b")
		check(t, a, "GroupMembers(g) in a after a delete in b", members(a, "g", 10), "alice")
	})
}
