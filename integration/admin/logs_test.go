package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/storage/memory"
)

// TestAuditLogs: a management write through REST and a failed client
// authentication are in GET /api/v2/logs, newest first, with their actor
// and client; kind and time filters and paging select from them; bad
// queries are 400 invalid_query.
func TestAuditLogs(t *testing.T) {
	e := newEnv(t, memory.New())
	before := time.Now().Add(-time.Second).UTC()
	e.do("POST", "/api/v2/resource-servers", e.all(), map[string]any{"identifier": "https://logs.example.com/", "name": "Logs"}).
		want(t, http.StatusCreated)
	resp, err := http.PostForm(e.ts.URL+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {e.boot.ClientID}, "client_secret": {"wrong"}, "audience": {otherAPI}})
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", resp.StatusCode)
	}

	tok := e.token(admin.ScopeAuditLogsList)
	logs := func(query string) []map[string]any {
		t.Helper()
		a := e.do("GET", "/api/v2/logs"+query, tok, nil).want(t, http.StatusOK)
		var out []map[string]any
		for _, l := range asList(a.json(t)["logs"]) {
			out = append(out, l.(map[string]any))
		}
		return out
	}
	all := logs("")
	if len(all) < 2 {
		t.Fatalf("logs %v", all)
	}
	// records of one millisecond are in no particular order: find them.
	find := func(kind string) map[string]any {
		for _, l := range all[:2] {
			if l["type"] == kind {
				return l
			}
		}
		t.Fatalf("no %s among the newest logs %v", kind, all[:2])
		return nil
	}
	if f := find("client.auth_failed"); f["client_id"] != e.boot.ClientID || f["error"] != "invalid_client" {
		t.Fatalf("failed authentication logged as %v", f)
	}
	w := find("admin.write")
	if w["action"] != "create" || w["target_id"] != "https://logs.example.com/" || w["outcome"] != "success" ||
		w["actor"] != e.boot.ClientID+"@clients" || !strings.Contains(w["description"].(string), "create api") {
		t.Fatalf("write logged as %v, want the API's creation by the management client", w)
	}
	for i := 1; i < len(all); i++ {
		ms := func(l map[string]any) time.Time {
			d, err := time.Parse(time.RFC3339Nano, l["date"].(string))
			must(t, err)
			return d.Truncate(time.Millisecond)
		}
		if ms(all[i-1]).Before(ms(all[i])) {
			t.Fatalf("not newest first: %v before %v", all[i-1]["date"], all[i]["date"])
		}
	}

	for _, q := range []string{"?kind=client.auth_failed", "?q=kind:client.auth_failed", "?kind=client.auth_failed,refresh.reused"} {
		got := logs(q)
		if len(got) != 1 || got[0]["type"] != "client.auth_failed" {
			t.Fatalf("%s: %v", q, got)
		}
	}
	for _, l := range logs("?q=kind:admin.write") {
		if l["type"] != "admin.write" {
			t.Fatalf("kind filter let through %v", l)
		}
	}
	if got := logs("?from_time=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))); len(got) != 0 {
		t.Fatalf("future window: %v", got)
	}
	if got := logs("?to_time=" + url.QueryEscape(before.Format(time.RFC3339))); len(got) != 0 {
		t.Fatalf("window before the server started: %v", got)
	}

	// paging: one at a time walks the whole log once, in the same order.
	var walked []string
	for q := "?take=1"; ; {
		a := e.do("GET", "/api/v2/logs"+q, tok, nil).want(t, http.StatusOK)
		m := a.json(t)
		page := asList(m["logs"])
		if len(page) != 1 {
			t.Fatalf("page %v", m)
		}
		walked = append(walked, page[0].(map[string]any)["log_id"].(string))
		next, _ := m["next"].(string)
		if next == "" {
			break
		}
		q = "?take=1&from=" + url.QueryEscape(next)
	}
	if len(walked) != len(all) || walked[0] != all[0]["log_id"] || walked[len(walked)-1] != all[len(all)-1]["log_id"] {
		t.Fatalf("walked %v, listed %d", walked, len(all))
	}

	for _, q := range []string{"?take=0", "?take=101", "?from=!!", "?from=bm90LWFuLWlk", "?from_time=yesterday",
		"?to_time=2024-01-01", "?q=type:f", "?kind=", "?kind=" + strings.Repeat("a,", 40) + "a"} {
		a := e.do("GET", "/api/v2/logs"+q, tok, nil)
		if a.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: %d %s", q, a.StatusCode, a.body)
		}
		if code, _ := a.apiErr(t); code != "invalid_query" {
			t.Fatalf("%s: errorCode %q", q, code)
		}
	}
}
