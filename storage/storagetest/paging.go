package storagetest

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/storage"
)

// lister is one paged listing: a collection's List or a directory lookup.
type lister[T any] func(q storage.ListQuery) (storage.Page[T], error)

// pageAll follows a listing's cursors from the first page and returns the
// keys of every page. It fails the test on an error, a page over the limit,
// a short page that is not the last, or more pages than records.
func pageAll[T any](t *testing.T, list lister[T], prefix string, limit int) [][]string {
	t.Helper()
	var pages [][]string
	q := storage.ListQuery{Prefix: prefix, Limit: limit}
	for {
		p, err := list(q)
		Expect(t, err, nil, fmt.Sprintf("List page %d (limit %d)", len(pages)+1, limit))
		if p.Items == nil {
			t.Fatal("a page's Items are nil, want an empty slice")
		}
		if len(p.Items) > limit {
			t.Fatalf("page of %d records for a limit of %d", len(p.Items), limit)
		}
		var keys []string
		for _, r := range p.Items {
			keys = append(keys, record(r).Key())
		}
		pages = append(pages, keys)
		if p.Next == "" {
			return pages
		}
		if len(p.Items) < limit {
			t.Fatalf("page %d has %d of %d records and a next cursor", len(pages), len(p.Items), limit)
		}
		if len(pages) > 10000 {
			t.Fatal("paging does not end")
		}
		q.After = p.Next
	}
}

// flat joins pages.
func flat(pages [][]string) []string {
	out := []string{}
	for _, p := range pages {
		out = append(out, p...)
	}
	return out
}

// testPaging checks that List pages through a collection: every record
// exactly once, in key order, for several page sizes, with and without a
// prefix.
func testPaging[T any](t *testing.T, newStore NewStore, c collCase[T]) {
	s := newStore(t)
	var all, one []string
	for _, o := range []int{2, 1} {
		for i := 12; i >= 1; i-- {
			rec := c.make(o, i)
			Expect(t, c.coll(s).Create(bg, rec), nil, "Create")
			all = append(all, c.key(rec))
			if o == 1 {
				one = append(one, c.key(rec))
			}
		}
	}
	sort.Strings(all)
	sort.Strings(one)
	list := lister[T](func(q storage.ListQuery) (storage.Page[T], error) { return c.coll(s).List(bg, q) })
	for _, limit := range []int{1, 2, 5, 7, 12, 24, 25, storage.MaxPageSize} {
		pages := pageAll(t, list, "", limit)
		if got := flat(pages); !reflect.DeepEqual(got, all) {
			t.Fatalf("limit %d: pages %q, want %q", limit, got, all)
		}
		if want := (len(all) + limit - 1) / limit; len(pages) != want {
			t.Fatalf("limit %d: %d pages, want %d (no empty last page)", limit, len(pages), want)
		}
		if got := flat(pageAll(t, list, c.prefix(1), limit)); !reflect.DeepEqual(got, one) {
			t.Fatalf("limit %d, prefix %q: pages %q, want %q", limit, c.prefix(1), got, one)
		}
	}
	p, err := c.coll(s).List(bg, storage.ListQuery{Prefix: "no-such-prefix"})
	Expect(t, err, nil, "List of an unused prefix")
	if len(p.Items) != 0 || p.Next != "" {
		t.Fatalf("an unused prefix lists %d records, next %q", len(p.Items), p.Next)
	}
	// A cursor of one prefix's listing does not page another's.
	first, err := c.coll(s).List(bg, storage.ListQuery{Prefix: c.prefix(2), Limit: 1})
	Expect(t, err, nil, "List prefix 2")
	_, err = c.coll(s).List(bg, storage.ListQuery{Prefix: c.prefix(1), After: first.Next})
	Expect(t, err, storage.ErrInvalid, "a cursor of another prefix")
}

// putUser creates a user with the email, groups and roles.
func putUser(t *testing.T, s storage.Store, id, email string, groups, roles []string) *storage.User {
	t.Helper()
	u := &storage.User{ID: id, Name: "n " + id, Email: email, Groups: groups, Roles: roles}
	Expect(t, s.Users().Create(bg, u), nil, "Create user "+id)
	return u
}

// testPageBounds checks page sizes, malformed cursors and cursor stability
// under concurrent writes, on the users collection.
func testPageBounds(t *testing.T, newStore NewStore) {
	t.Run("Limits", func(t *testing.T) {
		s := newStore(t)
		n := storage.MaxPageSize + 1
		for i := 0; i < n; i++ {
			Expect(t, s.Clients().Create(bg, &storage.Client{ID: fmt.Sprintf("c%05d", i)}), nil, "Create")
		}
		p, err := s.Clients().List(bg, storage.ListQuery{})
		Expect(t, err, nil, "List with no limit")
		if len(p.Items) != storage.DefaultPageSize || p.Next == "" {
			t.Fatalf("no limit: %d records, next %q; want %d and a cursor", len(p.Items), p.Next, storage.DefaultPageSize)
		}
		p, err = s.Clients().List(bg, storage.ListQuery{Limit: 100 * storage.MaxPageSize})
		Expect(t, err, nil, "List with a huge limit")
		if len(p.Items) != storage.MaxPageSize || p.Next == "" {
			t.Fatalf("huge limit: %d records, next %q; want %d and a cursor", len(p.Items), p.Next, storage.MaxPageSize)
		}
		p, err = s.Clients().List(bg, storage.ListQuery{After: p.Next, Limit: 100 * storage.MaxPageSize})
		Expect(t, err, nil, "List the rest")
		if len(p.Items) != 1 || p.Items[0].ID != fmt.Sprintf("c%05d", n-1) || p.Next != "" {
			t.Fatalf("last page: %d records, next %q", len(p.Items), p.Next)
		}
		_, err = s.Clients().List(bg, storage.ListQuery{Limit: -1})
		Expect(t, err, storage.ErrInvalid, "negative limit")
	})
	t.Run("MalformedCursor", func(t *testing.T) {
		s := newStore(t)
		putUser(t, s, "u1", "a@example.com", []string{"g"}, []string{"r"})
		bad := map[string]string{
			"not base64":         "!!!",
			"padded":             storage.EncodeCursor("u1") + "==",
			"standard alphabet":  "+/+/",
			"non-canonical bits": "dTF",
			"too long":           strings.Repeat("A", storage.MaxCursorBytes+4),
			"truncated":          storage.EncodeCursor("u1")[:1],
		}
		for name, cur := range bad {
			q := storage.ListQuery{After: cur}
			_, err := s.Users().List(bg, q)
			Expect(t, err, storage.ErrInvalid, "List with a cursor "+name)
			_, err = s.GroupMembers(bg, "g", q)
			Expect(t, err, storage.ErrInvalid, "GroupMembers with a cursor "+name)
			_, err = s.UsersByEmail(bg, "a@example.com", q)
			Expect(t, err, storage.ErrInvalid, "UsersByEmail with a cursor "+name)
			_, err = s.RoleGroups(bg, "r", q)
			Expect(t, err, storage.ErrInvalid, "RoleGroups with a cursor "+name)
		}
		// A cursor of one user's consents does not page another's.
		for _, u := range []string{"u1", "u2"} {
			Expect(t, s.Consents().Create(bg, &storage.Consent{UserID: u, ClientID: "c", Audience: "https://api"}), nil, "consent")
		}
		_, err := s.Consents().List(bg, storage.ListQuery{Prefix: storage.JoinKey("u1", ""), After: storage.EncodeCursor(storage.JoinKey("u2", "c", "https://api"))})
		Expect(t, err, storage.ErrInvalid, "a cursor naming another user's consent")
	})
	t.Run("CursorStability", func(t *testing.T) {
		for _, byGroup := range []bool{false, true} {
			s := newStore(t)
			for i := 0; i < 20; i++ {
				putUser(t, s, fmt.Sprintf("u%02d", i), "", []string{"g"}, nil)
			}
			list := func(q storage.ListQuery) (storage.Page[storage.User], error) {
				if byGroup {
					return s.GroupMembers(bg, "g", q)
				}
				return s.Users().List(bg, q)
			}
			first, err := list(storage.ListQuery{Limit: 5})
			Expect(t, err, nil, "first page")
			var seen []string
			for _, u := range first.Items {
				seen = append(seen, u.ID)
			}
			last := seen[len(seen)-1]
			// Between pages: a record already seen and one not yet seen are
			// deleted, one is inserted before the cursor and one after it.
			for _, id := range []string{seen[2], "u10"} {
				Expect(t, s.Users().Delete(bg, id), nil, "Delete "+id)
			}
			putUser(t, s, seen[0]+"a", "", []string{"g"}, nil)
			putUser(t, s, last+"a", "", []string{"g"}, nil)
			var want []string
			for _, id := range flat(pageAll(t, list, "", 4)) {
				if id > last {
					want = append(want, id)
				}
			}
			q := storage.ListQuery{After: first.Next, Limit: 4}
			var tail []string
			for {
				p, err := list(q)
				Expect(t, err, nil, "next page")
				for _, u := range p.Items {
					tail = append(tail, u.ID)
				}
				if p.Next == "" {
					break
				}
				q.After = p.Next
			}
			if !reflect.DeepEqual(tail, want) || tail[0] != last+"a" {
				t.Fatalf("byGroup %v: pages after the cursor %q, want %q", byGroup, tail, want)
			}
		}
	})
}
