package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

const usersAPI = "https://users.example.com/"

// runSuite runs the REST cases on stores made by newStore.
func runSuite(t *testing.T, newStore func(t *testing.T) storage.Store) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"Lifecycle", testLifecycle},
		{"Validation", testValidation},
		{"ConcurrentETag", testConcurrentETag},
		{"Paging", testPaging},
		{"Secrets", testSecrets},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newEnv(t, newStore(t))) })
	}
}

// testLifecycle walks the directory through the REST API: an API, a
// client with a grant, a role with permissions, a group with the role, a
// user in the group; reads carry ETags, updates honour If-Match, deletes
// cascade.
func testLifecycle(t *testing.T, e *env) {
	tok := e.all()
	a := e.do("POST", "/api/v2/resource-servers", tok, map[string]any{"identifier": usersAPI, "name": "Users",
		"token_lifetime": 600, "scopes": []map[string]string{{"name": "read:users"}, {"name": "write:users"}}}).want(t, http.StatusCreated)
	if loc := a.Header.Get("Location"); loc != "/api/v2/resource-servers/"+url.PathEscape(usersAPI) {
		t.Fatalf("Location %q", loc)
	}
	rs := e.do("GET", "/api/v2/resource-servers/"+url.PathEscape(usersAPI), tok, nil).want(t, http.StatusOK)
	if rs.json(t)["token_lifetime"] != float64(600) || rs.Header.Get("ETag") != a.Header.Get("ETag") || rs.Header.Get("ETag") == "" {
		t.Fatalf("read back %s ETag %q", rs.body, rs.Header.Get("ETag"))
	}
	cl := e.do("POST", "/api/v2/clients", tok, map[string]any{"client_id": "svc", "client_name": "Service",
		"grant_types": []string{"client_credentials"}}).want(t, http.StatusCreated)
	secret, _ := cl.json(t)["client_secret"].(string)
	if len(secret) < admin.MinSecretBytes {
		t.Fatalf("create answered no secret: %s", cl.body)
	}
	g := e.do("POST", "/api/v2/client-grants", tok, map[string]any{"client_id": "svc", "audience": usersAPI,
		"scope": []string{"read:users"}}).want(t, http.StatusCreated)
	gid := g.json(t)["id"].(string)
	if _, err := e.srv.Issue(bg, &authz.TokenRequest{GrantType: "client_credentials", ClientID: "svc", ClientSecret: secret,
		AuthMethod: oauth.AuthBasic, Audience: usersAPI}); err != nil {
		t.Fatalf("the client made over REST gets no token: %v", err)
	}
	e.do("PATCH", "/api/v2/client-grants/"+gid, tok, map[string]any{"scope": []string{"read:users", "write:users"}},
		"If-Match", g.Header.Get("ETag")).want(t, http.StatusOK)
	e.do("PATCH", "/api/v2/client-grants/"+gid, tok, map[string]any{"scope": []string{"read:users"}},
		"If-Match", g.Header.Get("ETag")).want(t, http.StatusPreconditionFailed)

	e.do("POST", "/api/v2/roles", tok, map[string]any{"id": "reader", "name": "Reader"}).want(t, http.StatusCreated)
	e.do("POST", "/api/v2/roles/reader/permissions", tok, map[string]any{"permissions": []storage.Permission{{Audience: usersAPI, Scope: "read:users"}}}).
		want(t, http.StatusNoContent)
	e.do("POST", "/api/v2/groups", tok, map[string]any{"id": "staff", "name": "Staff"}).want(t, http.StatusCreated)
	e.do("POST", "/api/v2/groups/staff/roles", tok, map[string]any{"roles": []string{"reader"}}).want(t, http.StatusNoContent)
	e.do("POST", "/api/v2/users", tok, map[string]any{"user_id": "carol", "name": "Carol", "email": "carol@example.com"}).want(t, http.StatusCreated)
	e.do("POST", "/api/v2/groups/staff/members", tok, map[string]any{"members": []string{"carol"}}).want(t, http.StatusNoContent)
	perms := e.do("GET", "/api/v2/users/carol/permissions", tok, nil).want(t, http.StatusOK).json(t)["permissions"].([]any)
	if len(perms) != 1 || perms[0].(map[string]any)["permission_name"] != "read:users" {
		t.Fatalf("carol's permissions %v", perms)
	}
	members := e.do("GET", "/api/v2/groups/staff/members", tok, nil).want(t, http.StatusOK).json(t)["members"].([]any)
	if len(members) != 1 {
		t.Fatalf("members %v", members)
	}
	e.do("POST", "/api/v2/users/carol/roles", tok, map[string]any{"roles": []string{"reader"}}).want(t, http.StatusNoContent)
	if us := e.do("GET", "/api/v2/roles/reader/users", tok, nil).want(t, http.StatusOK).json(t)["users"].([]any); len(us) != 1 {
		t.Fatalf("role users %v", us)
	}
	u := e.do("GET", "/api/v2/users/carol", tok, nil).want(t, http.StatusOK)
	e.do("PATCH", "/api/v2/users/carol", tok, map[string]any{"nickname": "cc"}, "If-Match", u.Header.Get("ETag")).want(t, http.StatusOK)
	got := e.do("GET", "/api/v2/users/carol", tok, nil).want(t, http.StatusOK).json(t)
	if got["nickname"] != "cc" || got["email"] != "carol@example.com" {
		t.Fatalf("PATCH is not a partial update: %v", got)
	}

	// deleting the scope's API cascades to the grant and the permission
	e.do("DELETE", "/api/v2/resource-servers/"+url.PathEscape(usersAPI), tok, nil).want(t, http.StatusNoContent)
	e.do("GET", "/api/v2/client-grants/"+gid, tok, nil).want(t, http.StatusNotFound)
	if p := e.do("GET", "/api/v2/roles/reader/permissions", tok, nil).want(t, http.StatusOK).json(t)["permissions"].([]any); len(p) != 0 {
		t.Fatalf("permissions left %v", p)
	}
	for _, p := range []string{"/api/v2/users/carol", "/api/v2/groups/staff", "/api/v2/roles/reader", "/api/v2/clients/svc"} {
		e.do("DELETE", p, tok, nil).want(t, http.StatusNoContent)
		e.do("GET", p, tok, nil).want(t, http.StatusNotFound)
		e.do("DELETE", p, tok, nil).want(t, http.StatusNotFound)
	}
	e.do("DELETE", "/api/v2/resource-servers/"+url.PathEscape(e.boot.Audience), tok, nil).want(t, http.StatusConflict)
}

// testValidation sends each invalid request and checks the 4xx, the field
// named, and that nothing was written.
func testValidation(t *testing.T, e *env) {
	tok := e.all()
	e.do("POST", "/api/v2/resource-servers", tok, map[string]any{"identifier": usersAPI, "name": "Users",
		"scopes": []map[string]string{{"name": "read:users"}}}).want(t, http.StatusCreated)
	e.do("POST", "/api/v2/clients", tok, map[string]any{"client_id": "svc", "client_name": "S", "grant_types": []string{"client_credentials"}}).
		want(t, http.StatusCreated)
	big := `{"identifier":"https://big.example.com/","name":"` + strings.Repeat("x", admin.MaxBodyBytes) + `"}`
	for _, c := range []struct {
		name, method, path string
		body               any
		ctype              string
		status             int
		code, field        string
	}{
		{"identifier not a URI", "POST", "/api/v2/resource-servers", `{"identifier":"not a url","name":"x"}`, "", 400, "invalid_body", "identifier"},
		{"bad scope name", "POST", "/api/v2/resource-servers", `{"identifier":"https://a.example.com/","name":"A","scopes":[{"name":"ok"},{"name":"bad scope"}]}`, "", 400, "invalid_body", "scopes[1].name"},
		{"unknown field", "POST", "/api/v2/resource-servers", `{"identifier":"https://a.example.com/","nme":"A"}`, "", 400, "invalid_body", "nme"},
		{"wrong type", "POST", "/api/v2/resource-servers", `{"identifier":"https://a.example.com/","name":5}`, "", 400, "invalid_body", "name"},
		{"read-only managed", "POST", "/api/v2/resource-servers", `{"identifier":"https://a.example.com/","name":"A","managed":true}`, "", 400, "invalid_body", "managed"},
		{"lifetime out of range", "POST", "/api/v2/resource-servers", `{"identifier":"https://a.example.com/","name":"A","token_lifetime":99999999999999}`, "", 400, "invalid_body", "token_lifetime"},
		{"HS256", "POST", "/api/v2/resource-servers", `{"identifier":"https://a.example.com/","name":"A","signing_alg":"HS256"}`, "", 400, "invalid_body", "signing_alg"},
		{"not an object", "POST", "/api/v2/resource-servers", `[1]`, "", 400, "invalid_body", ""},
		{"trailing garbage", "POST", "/api/v2/resource-servers", `{"identifier":"https://a.example.com/","name":"A"} {}`, "", 400, "invalid_body", ""},
		{"not JSON", "POST", "/api/v2/resource-servers", `identifier=x`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", ""},
		{"too big", "POST", "/api/v2/resource-servers", big, "", 413, "payload_too_large", ""},
		{"duplicate", "POST", "/api/v2/resource-servers", `{"identifier":"` + usersAPI + `","name":"again"}`, "", 409, "conflict", ""},
		{"identifier change", "PATCH", "/api/v2/resource-servers/" + url.PathEscape(usersAPI), `{"identifier":"https://b.example.com/"}`, "", 400, "invalid_body", "identifier"},
		{"client secret hash", "POST", "/api/v2/clients", `{"client_name":"C","secret_hash":"AAAA"}`, "", 400, "invalid_body", "secret_hash"},
		{"client grant type", "POST", "/api/v2/clients", `{"client_name":"C","grant_types":["password"]}`, "", 400, "invalid_body", "grant_types[0]"},
		{"public change", "PATCH", "/api/v2/clients/svc", `{"public":true}`, "", 400, "invalid_body", "public"},
		{"grant scope undefined", "POST", "/api/v2/client-grants", `{"client_id":"svc","audience":"` + usersAPI + `","scope":["nope"]}`, "", 400, "invalid_body", "scope[0]"},
		{"grant unknown client", "POST", "/api/v2/client-grants", `{"client_id":"ghost","audience":"` + usersAPI + `","scope":[]}`, "", 400, "invalid_body", "client_id"},
		{"role without name", "POST", "/api/v2/roles", `{"id":"r"}`, "", 400, "invalid_body", "name"},
		{"role permissions in body", "POST", "/api/v2/roles", `{"id":"r","name":"R","permissions":[]}`, "", 400, "invalid_body", "permissions"},
		{"user birthdate", "POST", "/api/v2/users", `{"user_id":"u","birthdate":"yesterday"}`, "", 400, "invalid_body", "birthdate"},
		{"user roles in body", "POST", "/api/v2/users", `{"user_id":"u","roles":["x"]}`, "", 400, "invalid_body", "roles"},
		{"user picture", "POST", "/api/v2/users", `{"user_id":"u","picture":"javascript:alert(1)"}`, "", 400, "invalid_body", "picture"},
		{"take zero", "GET", "/api/v2/clients?take=0", nil, "", 400, "invalid_query", "take"},
		{"take too big", "GET", "/api/v2/clients?take=101", nil, "", 400, "invalid_query", "take"},
		{"bad cursor", "GET", "/api/v2/clients?from=%21%21", nil, "", 400, "invalid_query", "from"},
		{"rotate HS256", "POST", "/api/v2/keys/signing/rotate", `{"alg":"HS256"}`, "", 400, "invalid_body", "alg"},
		{"stale If-Match", "PATCH", "/api/v2/clients/svc", `{"client_name":"T"}`, "", 412, "precondition_failed", ""},
		{"unknown client", "GET", "/api/v2/clients/ghost", nil, "", 404, "not_found", ""},
		{"bad grant id", "DELETE", "/api/v2/client-grants/%21", nil, "", 404, "not_found", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.count(t)
			var hdr []string
			if c.status == http.StatusPreconditionFailed {
				hdr = []string{"If-Match", `"1"`}
			}
			if c.ctype != "" {
				hdr = append(hdr, "Content-Type", c.ctype)
			}
			a := e.do(c.method, c.path, tok, c.body, hdr...).want(t, c.status)
			code, fields := a.apiErr(t)
			if code != c.code {
				t.Fatalf("errorCode %q, want %q (%s)", code, c.code, a.body)
			}
			if c.field != "" && (len(fields) == 0 || fields[0] != c.field) {
				t.Fatalf("fields %v, want %q first (%s)", fields, c.field, a.body)
			}
			if after := e.count(t); after != before {
				t.Fatalf("a refused request wrote: %s -> %s", before, after)
			}
		})
	}
}

// count summarises the directory, to show a refused request wrote nothing.
func (e *env) count(t *testing.T) string {
	t.Helper()
	q := admin.Query{Limit: admin.MaxPageSize}
	apis, err := e.adm.ListAPIs(bg, q)
	must(t, err)
	cls, err := e.adm.ListClients(bg, q)
	must(t, err)
	gs, err := e.adm.ListClientGrants(bg, "", q)
	must(t, err)
	rs, err := e.adm.ListRoles(bg, q)
	must(t, err)
	us, err := e.adm.ListUsers(bg, q)
	must(t, err)
	ks, err := e.adm.ListKeys(bg, q)
	must(t, err)
	revs := 0
	for _, c := range cls.Items {
		revs += int(c.Revision % 1000)
	}
	for _, a := range apis.Items {
		revs += int(a.Revision % 1000)
	}
	return fmt.Sprintf("%d apis %d clients %d grants %d roles %d users %d keys rev %d",
		len(apis.Items), len(cls.Items), len(gs.Items), len(rs.Items), len(us.Items), len(ks.Items), revs)
}

// testConcurrentETag sends concurrent updates of one record, all with the
// ETag read: exactly one wins, the others are 412.
func testConcurrentETag(t *testing.T, e *env) {
	tok := e.all()
	r := e.do("POST", "/api/v2/roles", tok, map[string]any{"id": "ops", "name": "Ops"}).want(t, http.StatusCreated)
	tag := r.Header.Get("ETag")
	const n = 8
	var wg sync.WaitGroup
	status := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status[i] = e.do("PATCH", "/api/v2/roles/ops", tok, map[string]any{"name": fmt.Sprintf("Ops %d", i)}, "If-Match", tag).StatusCode
		}()
	}
	wg.Wait()
	won := 0
	for _, s := range status {
		switch s {
		case http.StatusOK:
			won++
		case http.StatusPreconditionFailed:
		default:
			t.Fatalf("status %d", s)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d updates with one ETag won: %v", won, n, status)
	}
}

// testPaging walks the users two at a time with ?from&take.
func testPaging(t *testing.T, e *env) {
	tok := e.all()
	for i := range 5 {
		e.do("POST", "/api/v2/users", tok, map[string]any{"user_id": fmt.Sprintf("u%d", i)}).want(t, http.StatusCreated)
	}
	var seen []string
	path := "/api/v2/users?take=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		m := e.do("GET", path, tok, nil).want(t, http.StatusOK).json(t)
		items := m["users"].([]any)
		if len(items) > 2 {
			t.Fatalf("take=2 answered %d", len(items))
		}
		for _, it := range items {
			seen = append(seen, it.(map[string]any)["user_id"].(string))
		}
		next, _ := m["next"].(string)
		if next == "" {
			break
		}
		path = "/api/v2/users?take=2&from=" + url.QueryEscape(next)
	}
	if strings.Join(seen, ",") != "u0,u1,u2,u3,u4" {
		t.Fatalf("pages gave %v", seen)
	}
}

// testSecrets: a secret appears in the create and rotate answers only;
// rotation stops the old one; key listings carry no private key.
func testSecrets(t *testing.T, e *env) {
	tok := e.all()
	cl := e.do("POST", "/api/v2/clients", tok, map[string]any{"client_id": "svc", "client_name": "S", "grant_types": []string{"client_credentials"}}).
		want(t, http.StatusCreated).json(t)
	old := cl["client_secret"].(string)
	for _, p := range []string{"/api/v2/clients/svc", "/api/v2/clients"} {
		a := e.do("GET", p, tok, nil).want(t, http.StatusOK)
		for _, leak := range []string{old, `"client_secret"`, "secret_hash"} {
			if strings.Contains(string(a.body), leak) {
				t.Fatalf("%s shows a secret (%s): %s", p, leak, a.body)
			}
		}
	}
	rot := e.do("POST", "/api/v2/clients/svc/rotate-secret", tok, nil).want(t, http.StatusOK).json(t)
	fresh, _ := rot["client_secret"].(string)
	if fresh == "" || fresh == old {
		t.Fatalf("rotate answered %v", rot)
	}
	issue := func(secret string) error {
		_, err := e.srv.Issue(bg, &authz.TokenRequest{GrantType: "client_credentials", ClientID: "svc", ClientSecret: secret,
			AuthMethod: oauth.AuthBasic, Audience: otherAPI, Scopes: []string{}})
		return err
	}
	if issue(old) == nil {
		t.Fatal("the old secret still works")
	}
	k := e.do("POST", "/api/v2/keys/signing/rotate", tok, map[string]string{"alg": "ES256"}).want(t, http.StatusCreated)
	e.do("GET", k.Header.Get("Location"), tok, nil).want(t, http.StatusOK)
	keys := e.do("GET", "/api/v2/keys/signing", tok, nil).want(t, http.StatusOK)
	if strings.Contains(string(keys.body), `"jwk"`) || strings.Contains(string(keys.body), `"d"`) {
		t.Fatalf("key listing shows key material: %s", keys.body)
	}
}
