package tenant_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/authz/tenant"
	"github.com/scopekit/scopekit/storage"
)

// runTenants is the multi-tenant story on one store: two tenants created
// through the API, each its own issuer and keys, a token of one refused at
// the other, a tenant deleted (404, data gone) while the other works.
func runTenants(t *testing.T, store storage.Store) {
	h := newHost(t, store)
	ops := h.opsToken()
	ctx := context.Background()

	for _, id := range []string{"acme", "globex"} {
		status, body, hdr := h.call("POST", tenant.APIPath, ops, `{"id":"`+id+`","name":"`+strings.ToUpper(id)+`"}`)
		if status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", id, status, body)
		}
		var got struct{ ID, Name, Issuer string }
		must(t, json.Unmarshal(body, &got))
		if got.ID != id || got.Issuer != h.issuer(id) || hdr.Get("ETag") == "" {
			t.Fatalf("created %s: %s %v", id, body, hdr)
		}
	}

	t.Run("EachTenantItsOwnIssuer", func(t *testing.T) {
		for _, id := range []string{"acme", "globex"} {
			iss := h.issuer(id)
			for _, doc := range []string{iss + ".well-known/oauth-authorization-server",
				h.http.URL + "/.well-known/oauth-authorization-server/_api/auth/" + id} {
				status, d := h.getJSON(doc)
				if status != http.StatusOK || d["issuer"] != iss || d["token_endpoint"] != iss+"oauth/token" {
					t.Fatalf("%s: %d %v", doc, status, d)
				}
			}
			c := claims(t, h.tenantToken(id))
			aud, _ := c["aud"].(string)
			if list, ok := c["aud"].([]any); ok && len(list) > 0 {
				aud, _ = list[0].(string)
			}
			if c["iss"] != iss || aud != strings.TrimSuffix(iss, "/") {
				t.Fatalf("token of %s: iss %v aud %v", id, c["iss"], c["aud"])
			}
		}
	})

	t.Run("KeysDiffer", func(t *testing.T) {
		a, g := h.kids(h.issuer("acme")), h.kids(h.issuer("globex"))
		if len(a) == 0 || len(g) == 0 {
			t.Fatalf("empty JWKS: %v %v", a, g)
		}
		for kid := range a {
			if g[kid] {
				t.Fatalf("kid %s in both tenants", kid)
			}
		}
	})

	t.Run("TokenOfOneTenantNeverVerifiesAtAnother", func(t *testing.T) {
		acmeTok, globexTok := h.tenantToken("acme"), h.tenantToken("globex")
		globex, err := h.reg.Server(ctx, "globex")
		must(t, err)
		globexAud := strings.TrimSuffix(h.issuer("globex"), "/")
		if _, err := globex.Authorizer(globexAud).Authorize(ctx, globexTok, resource.Requirement{}); err != nil {
			t.Fatalf("globex's own token: %v", err)
		}
		// Even asked for acme's audience, globex's authorizer refuses it.
		for _, aud := range []string{globexAud, strings.TrimSuffix(h.issuer("acme"), "/")} {
			_, err := globex.Authorizer(aud).Authorize(ctx, acmeTok, resource.Requirement{})
			if e, ok := oauth.As(err); !ok || !e.Is(oauth.ErrInvalidToken) || e.Status != http.StatusUnauthorized {
				t.Fatalf("acme's token at globex (%s): %v", aud, err)
			}
		}
		introspect := func(tok string) bool {
			req, err := http.NewRequest("POST", h.issuer("globex")+"oauth/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
			must(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("app", h.appSecret("globex"))
			status, body := h.do(req)
			var out struct{ Active bool }
			if status != http.StatusOK || json.Unmarshal(body, &out) != nil {
				t.Fatalf("introspect: %d %s", status, body)
			}
			return out.Active
		}
		if !introspect(globexTok) {
			t.Fatal("globex's own token is inactive at globex")
		}
		if introspect(acmeTok) {
			t.Fatal("acme's token is active at globex")
		}
		// And a tenant's token is no token of the root's management API.
		if status, _, _ := h.call("GET", tenant.APIPath, acmeTok, ""); status != http.StatusUnauthorized {
			t.Fatalf("tenant token at the tenants API: %d", status)
		}
	})

	t.Run("APIScopes", func(t *testing.T) { testAPIScopes(t, h) })

	t.Run("List", func(t *testing.T) {
		status, body, _ := h.call("GET", tenant.APIPath+"?per_page=1", ops, "")
		var page struct {
			Tenants []struct{ ID string }
			Next    string
		}
		if status != http.StatusOK || json.Unmarshal(body, &page) != nil || len(page.Tenants) != 1 || page.Tenants[0].ID != "acme" || page.Next == "" {
			t.Fatalf("first page: %d %s", status, body)
		}
		status, body, _ = h.call("GET", tenant.APIPath+"?per_page=1&from="+url.QueryEscape(page.Next), ops, "")
		page.Next = ""
		if status != http.StatusOK || json.Unmarshal(body, &page) != nil || len(page.Tenants) != 1 || page.Tenants[0].ID != "globex" {
			t.Fatalf("second page: %d %s", status, body)
		}
	})

	t.Run("Validation", func(t *testing.T) {
		for _, tc := range []struct {
			body string
			want int
		}{
			{`{"id":"acme"}`, http.StatusConflict},
			{`{"id":"has space"}`, http.StatusBadRequest},
			{`{"id":"a/b"}`, http.StatusBadRequest},
			{`{"id":".."}`, http.StatusBadRequest},
			{`{"id":""}`, http.StatusBadRequest},
			{`{"id":"` + strings.Repeat("x", tenant.MaxIDBytes+1) + `"}`, http.StatusBadRequest},
			{`{"id":"ok","name":"bad\u0000name"}`, http.StatusBadRequest},
			{`{"id":"ok","extra":1}`, http.StatusBadRequest},
			{`not json`, http.StatusBadRequest},
		} {
			if status, body, _ := h.call("POST", tenant.APIPath, ops, tc.body); status != tc.want {
				t.Errorf("POST %s: %d %s, want %d", tc.body, status, body, tc.want)
			}
		}
		if _, err := h.reg.Get(ctx, "ok"); err == nil {
			t.Fatal("a refused tenant was stored")
		}
		if status, _, _ := h.call("GET", tenant.APIPath+"/nobody", ops, ""); status != http.StatusNotFound {
			t.Fatalf("unknown tenant: %d", status)
		}
		if status, _ := h.getJSON(h.issuer("nobody") + ".well-known/openid-configuration"); status != http.StatusNotFound {
			t.Fatalf("endpoints of an unknown tenant: %d", status)
		}
	})

	t.Run("Rename", func(t *testing.T) {
		_, body, hdr := h.call("GET", tenant.APIPath+"/globex", ops, "")
		etag := hdr.Get("ETag")
		req := func(match string) int {
			r, err := http.NewRequest("PATCH", h.http.URL+tenant.APIPath+"/globex", strings.NewReader(`{"name":"Globex Corp"}`))
			must(t, err)
			r.Header.Set("Authorization", "Bearer "+ops)
			if match != "" {
				r.Header.Set("If-Match", match)
			}
			status, _ := h.do(r)
			return status
		}
		if s := req(""); s != http.StatusPreconditionRequired {
			t.Fatalf("PATCH without If-Match: %d", s)
		}
		if s := req(etag); s != http.StatusOK {
			t.Fatalf("PATCH %s (%s): %d", etag, body, s)
		}
		if s := req(etag); s != http.StatusPreconditionFailed {
			t.Fatalf("PATCH at a stale revision: %d", s)
		}
	})

	t.Run("CreateServesAtOnce", func(t *testing.T) {
		if status, body, _ := h.call("POST", tenant.APIPath, ops, `{"id":"initech"}`); status != http.StatusCreated {
			t.Fatalf("create: %d %s", status, body)
		}
		if c := claims(t, h.tenantToken("initech")); c["iss"] != h.issuer("initech") {
			t.Fatalf("iss %v", c["iss"])
		}
	})

	t.Run("Delete", func(t *testing.T) {
		if status, body, _ := h.call("DELETE", tenant.APIPath+"/acme", ops, ""); status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", status, body)
		}
		for _, p := range []string{".well-known/openid-configuration", ".well-known/jwks.json"} {
			status, doc := h.getJSON(h.issuer("acme") + p)
			if status != http.StatusNotFound || doc["error"] != "not_found" {
				t.Fatalf("%s of a deleted tenant: %d %v", p, status, doc)
			}
		}
		if _, status := h.token(h.issuer("acme"), "app", h.appSecret("acme"), strings.TrimSuffix(h.issuer("acme"), "/")); status != http.StatusNotFound {
			t.Fatalf("token endpoint of a deleted tenant: %d", status)
		}
		if _, err := h.reg.Server(ctx, "acme"); err == nil {
			t.Fatal("Server of a deleted tenant")
		}
		if status, _, _ := h.call("GET", tenant.APIPath+"/acme", ops, ""); status != http.StatusNotFound {
			t.Fatalf("record of a deleted tenant: %d", status)
		}
		if status, _, _ := h.call("DELETE", tenant.APIPath+"/acme", ops, ""); status != http.StatusNotFound {
			t.Fatalf("second delete: %d", status)
		}
		gone := store.Tenant("acme")
		for what, n := range map[string]func() (int, error){
			"keys":    func() (int, error) { l, err := storage.All(ctx, gone.Keys(), ""); return len(l), err },
			"clients": func() (int, error) { l, err := storage.All(ctx, gone.Clients(), ""); return len(l), err },
			"apis":    func() (int, error) { l, err := storage.All(ctx, gone.APIs(), ""); return len(l), err },
			"grants":  func() (int, error) { l, err := storage.All(ctx, gone.ClientGrants(), ""); return len(l), err },
		} {
			if got, err := n(); err != nil || got != 0 {
				t.Fatalf("deleted tenant's %s: %d %v", what, got, err)
			}
		}
		// The other tenants still work, and so does the root.
		h.tenantToken("globex")
		h.tenantToken("initech")
		h.opsToken()

		// The id of a deleted tenant is not reused: its unexpired tokens
		// carry that issuer, and APIs may hold its JWKS.
		if status, body, _ := h.call("POST", tenant.APIPath, ops, `{"id":"acme"}`); status != http.StatusConflict {
			t.Fatalf("create again: %d %s", status, body)
		}
		if _, err := h.reg.Server(ctx, "acme"); err == nil {
			t.Fatal("a refused re-creation serves")
		}
		if status, _ := h.getJSON(h.issuer("acme") + ".well-known/jwks.json"); status != http.StatusNotFound {
			t.Fatalf("JWKS after a refused re-creation: %d", status)
		}
	})
}

// testAPIScopes checks the guard of the tenants API.
func testAPIScopes(t *testing.T, h *host) {
	reader, status := h.token(h.http.URL+"/", "reader", h.readerSecret, rootAPI)
	if status != http.StatusOK {
		t.Fatalf("reader token: %d", status)
	}
	type auth0Error struct {
		StatusCode int
		Error      string
		Message    string
		ErrorCode  string
	}
	for _, tc := range []struct {
		method, path, bearer string
		want                 int
		scope                string
	}{
		{"GET", tenant.APIPath, "", http.StatusUnauthorized, ""},
		{"GET", tenant.APIPath, "not-a-token", http.StatusUnauthorized, ""},
		{"GET", tenant.APIPath, reader, http.StatusForbidden, tenant.ScopeList},
		{"POST", tenant.APIPath, reader, http.StatusForbidden, tenant.ScopeCreate},
		{"DELETE", tenant.APIPath + "/globex", reader, http.StatusForbidden, tenant.ScopeDelete},
		{"PATCH", tenant.APIPath + "/globex", reader, http.StatusForbidden, tenant.ScopeUpdate},
		{"GET", tenant.APIPath + "/globex", reader, http.StatusOK, ""},
	} {
		status, body, hdr := h.call(tc.method, tc.path, tc.bearer, `{"id":"sneaky"}`)
		if status != tc.want {
			t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, status, body, tc.want)
		}
		if status == http.StatusOK {
			continue
		}
		var e auth0Error
		if json.Unmarshal(body, &e) != nil || e.StatusCode != status || e.Error != http.StatusText(status) || e.Message == "" {
			t.Fatalf("%s %s: body %s", tc.method, tc.path, body)
		}
		challenge := hdr.Get("WWW-Authenticate")
		if !strings.HasPrefix(challenge, "Bearer") {
			t.Fatalf("%s %s: challenge %q", tc.method, tc.path, challenge)
		}
		if tc.scope != "" && (e.ErrorCode != "insufficient_scope" || !strings.Contains(e.Message, tc.scope) ||
			!strings.Contains(challenge, `scope="`+tc.scope+`"`)) {
			t.Fatalf("%s %s: %+v %q does not name %s", tc.method, tc.path, e, challenge, tc.scope)
		}
	}
	if _, err := h.reg.Get(context.Background(), "sneaky"); err == nil {
		t.Fatal("a tenant was created without the create scope")
	}
}
