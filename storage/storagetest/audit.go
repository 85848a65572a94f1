package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// testAudit checks AuditLog: ids set, newest first, paging without gaps or
// repeats, kind and time filters, retention by time on the store's clock,
// the count cap, tenant isolation, copies and bad input.
func testAudit(t *testing.T, newStore NewStore) {
	s, clk := clocked(t, newStore)
	start := clk.Now()
	rec := func(i int, kind string) *storage.AuditRecord {
		at := start.Add(time.Duration(i) * time.Millisecond)
		return &storage.AuditRecord{Time: at, Kind: kind, Client: fmt.Sprint("c", i), Scopes: []string{"read"},
			Attrs: map[string]string{"family": fmt.Sprint("f", i)}, ExpiresAt: at.Add(time.Hour)}
	}
	const n = 7
	for i := range n {
		kind := "token.issued"
		if i%3 == 0 {
			kind = "refresh.reused"
		}
		r := rec(i, kind)
		Expect(t, s.AppendAudit(bg, r, 100), nil, "AppendAudit")
		if !storage.ValidAuditID(r.ID) {
			t.Fatalf("AppendAudit set ID %q", r.ID)
		}
		r.Attrs["family"] = "changed" // the store keeps its own copy
	}
	all := listAll(t, s, storage.AuditQuery{Limit: 3})
	if len(all) != n {
		t.Fatalf("listed %d records, want %d", len(all), n)
	}
	for i, r := range all {
		want := n - 1 - i
		if r.Client != fmt.Sprint("c", want) || r.Attrs["family"] != fmt.Sprint("f", want) {
			t.Fatalf("record %d = %+v, want c%d/f%d newest first", i, r, want, want)
		}
		if !ms(r.Time).Equal(ms(start.Add(time.Duration(want) * time.Millisecond))) {
			t.Fatalf("record %d time %v", i, r.Time)
		}
	}
	all[0].Scopes[0] = "changed"
	if again := listAll(t, s, storage.AuditQuery{}); again[0].Scopes[0] != "read" {
		t.Fatal("ListAudit shares memory with the store")
	}

	reused := listAll(t, s, storage.AuditQuery{Kinds: []string{"refresh.reused"}, Limit: 1})
	if len(reused) != 3 || reused[0].Client != "c6" || reused[2].Client != "c0" {
		t.Fatalf("kind filter = %v", clients(reused))
	}
	window := listAll(t, s, storage.AuditQuery{Since: start.Add(2 * time.Millisecond), Until: start.Add(5 * time.Millisecond)})
	if got := clients(window); fmt.Sprint(got) != "[c4 c3 c2]" {
		t.Fatalf("time window = %v, want [c4 c3 c2]", got)
	}

	// Tenant isolation.
	other := s.Tenant("audit-other")
	if page, err := other.ListAudit(bg, storage.AuditQuery{}); err != nil || len(page.Records) != 0 {
		t.Fatalf("another tenant lists %d records, %v", len(page.Records), err)
	}
	Expect(t, other.AppendAudit(bg, rec(0, "admin.write"), 1), nil, "AppendAudit in another tenant")
	if got := listAll(t, s, storage.AuditQuery{}); len(got) != n {
		t.Fatalf("a write of another tenant changed this one's log: %d records", len(got))
	}

	// The count cap keeps the newest.
	Expect(t, s.AppendAudit(bg, rec(n, "admin.write"), 4), nil, "AppendAudit with a cap")
	if got := clients(listAll(t, s, storage.AuditQuery{})); fmt.Sprint(got) != "[c7 c6 c5 c4]" {
		t.Fatalf("after a cap of 4: %v", got)
	}
	if got := listAll(t, other, storage.AuditQuery{}); len(got) != 1 {
		t.Fatalf("the cap of one tenant reached another: %d records", len(got))
	}

	// Retention by time, on the store's clock.
	short := rec(n+1, "consent.granted")
	short.ExpiresAt = short.Time.Add(time.Minute)
	Expect(t, s.AppendAudit(bg, short, 100), nil, "AppendAudit short-lived")
	if got := listAll(t, s, storage.AuditQuery{}); len(got) != 5 {
		t.Fatalf("before expiry: %d records", len(got))
	}
	clk.Advance(2 * time.Minute)
	if got := clients(listAll(t, s, storage.AuditQuery{})); fmt.Sprint(got) != "[c7 c6 c5 c4]" {
		t.Fatalf("an expired record is listed: %v", got)
	}
	clk.Advance(time.Hour)
	if got := listAll(t, s, storage.AuditQuery{}); len(got) != 0 {
		t.Fatalf("records past their retention are listed: %v", clients(got))
	}

	// Bad input.
	Expect(t, s.AppendAudit(bg, &storage.AuditRecord{Time: start, ExpiresAt: start.Add(time.Hour)}, 10), storage.ErrInvalid, "AppendAudit without a kind")
	Expect(t, s.AppendAudit(bg, &storage.AuditRecord{Kind: "k", Time: start}, 10), storage.ErrInvalid, "AppendAudit without an expiry")
	Expect(t, s.AppendAudit(bg, rec(0, "k"), 0), storage.ErrInvalid, "AppendAudit with keep 0")
	for _, q := range []storage.AuditQuery{{Before: "not-an-id"}, {Before: "(+"}, {Limit: -1}, {Kinds: make([]string, storage.MaxAuditKinds+1)}} {
		_, err := s.ListAudit(bg, q)
		Expect(t, err, storage.ErrInvalid, fmt.Sprintf("ListAudit(%+v)", q))
	}
	big, err := s.ListAudit(bg, storage.AuditQuery{Limit: storage.MaxAuditPage * 10})
	Expect(t, err, nil, "ListAudit with a large limit")
	if big.Next != "" {
		t.Fatal("a page past the last record has a cursor")
	}
}

// listAll pages through the log with q and returns every record, checking
// that the pages come newest first, without repeats.
func listAll(t *testing.T, s storage.Store, q storage.AuditQuery) []*storage.AuditRecord {
	t.Helper()
	var out []*storage.AuditRecord
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("ListAudit pages do not end")
		}
		page, err := s.ListAudit(bg, q)
		Expect(t, err, nil, "ListAudit")
		if q.Limit > 0 && len(page.Records) > q.Limit {
			t.Fatalf("a page of %d records for a limit of %d", len(page.Records), q.Limit)
		}
		for _, r := range page.Records {
			if len(out) > 0 && r.ID >= out[len(out)-1].ID {
				t.Fatalf("ListAudit out of order: %s after %s", r.ID, out[len(out)-1].ID)
			}
			out = append(out, r)
		}
		if page.Next == "" {
			return out
		}
		q.Before = page.Next
	}
}

func clients(rs []*storage.AuditRecord) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Client
	}
	return out
}
