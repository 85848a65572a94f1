package admin_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/storage/memory"
)

// operation is one route of the OpenAPI document and the scope it demands.
type operation struct {
	method, path, scope string
	body                bool
}

// operations reads every operation of the served OpenAPI document.
func operations(t *testing.T, e *env) []operation {
	t.Helper()
	a := e.do("GET", "/api/v2/openapi.json", "", nil).want(t, http.StatusOK)
	var d struct {
		Paths map[string]map[string]struct {
			Security    []map[string][]string `json:"security"`
			RequestBody json.RawMessage       `json:"requestBody"`
		} `json:"paths"`
	}
	must(t, json.Unmarshal(a.body, &d))
	var ops []operation
	for path, item := range d.Paths {
		for method, op := range item {
			if len(op.Security) == 0 {
				continue
			}
			ops = append(ops, operation{strings.ToUpper(method), path, op.Security[0]["management"][0], op.RequestBody != nil})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	return ops
}

var param = regexp.MustCompile(`\{[a-z]+\}`)

// TestEveryRouteScope calls every route of the document: with no token
// (401), a token of another API holding the scope (401 invalid_token), a
// management token without the route's scope (403 insufficient_scope
// naming it), and one with exactly that scope (let through).
func TestEveryRouteScope(t *testing.T) {
	e := newEnv(t, memory.New())
	ops := operations(t, e)
	if len(ops) < 50 {
		t.Fatalf("the document lists %d guarded operations", len(ops))
	}
	scopes := map[string]bool{}
	for _, s := range admin.ManagementScopes() {
		scopes[s] = false
	}
	for _, op := range ops {
		t.Run(op.method+" "+op.path, func(t *testing.T) {
			if _, ok := scopes[op.scope]; !ok {
				t.Fatalf("scope %q is not a management scope", op.scope)
			}
			scopes[op.scope] = true
			path := param.ReplaceAllString(op.path, "nobody")
			var body any
			if op.body {
				body = map[string]any{}
			}
			a := e.do(op.method, path, "", body).want(t, http.StatusUnauthorized)
			if h := a.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer realm=") || strings.Contains(h, "error=") {
				t.Fatalf("no-token challenge %q", h)
			}
			if code, _ := a.apiErr(t); code != "missing_token" {
				t.Fatalf("errorCode %q", code)
			}

			a = e.do(op.method, path, e.tokenFor(otherAPI, op.scope), body).want(t, http.StatusUnauthorized)
			if h := a.Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) {
				t.Fatalf("other-audience challenge %q", h)
			}

			other := admin.ScopeClientsList
			if op.scope == other {
				other = admin.ScopeUsersList
			}
			a = e.do(op.method, path, e.token(other), body).want(t, http.StatusForbidden)
			if h := a.Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="insufficient_scope"`) || !strings.Contains(h, `scope="`+op.scope+`"`) {
				t.Fatalf("insufficient-scope challenge %q, want scope %q", h, op.scope)
			}
			if code, _ := a.apiErr(t); code != "insufficient_scope" {
				t.Fatalf("errorCode %q", code)
			}

			a = e.do(op.method, path, e.token(op.scope), body)
			if a.StatusCode == http.StatusUnauthorized || a.StatusCode == http.StatusForbidden || a.StatusCode >= 500 {
				t.Fatalf("with %s: %d %s", op.scope, a.StatusCode, a.body)
			}
		})
	}
	for s, used := range scopes {
		if !used {
			t.Errorf("no route demands %s", s)
		}
	}
}
