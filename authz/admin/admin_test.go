package admin_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

var bg = context.Background()

const usersAPI = "https://users.example.com"

// newAdmin returns an admin over a fresh memory store.
func newAdmin(t *testing.T) (*admin.Admin, storage.Store) {
	t.Helper()
	return newAdminOn(t, memory.New())
}

func newAdminOn(t *testing.T, store storage.Store) (*admin.Admin, storage.Store) {
	t.Helper()
	srv, err := authz.New(context.Background(), authz.Config{Issuer: "https://auth.example.com/", Store: store,
		Grants: []authz.Grant{grant.ClientCredentials{}, grant.AuthorizationCode{}, grant.RefreshToken{}}})
	if err != nil {
		t.Fatal(err)
	}
	return admin.New(srv), srv.Store()
}

// seed creates an API with two scopes, a machine client and its grant.
func seed(t *testing.T, m *admin.Admin) {
	t.Helper()
	must(t, m.CreateAPI(bg, &storage.API{Identifier: usersAPI, Name: "users",
		Scopes: []storage.Scope{{Name: "read:users"}, {Name: "write:users"}}}))
	if _, err := m.CreateClient(bg, &storage.Client{ID: "svc", GrantTypes: []string{"client_credentials"}}); err != nil {
		t.Fatal(err)
	}
	must(t, m.CreateClientGrant(bg, &storage.ClientGrant{ClientID: "svc", Audience: usersAPI, Scopes: []string{"read:users", "write:users"}}))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantField checks err is a ValidationError naming field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var ve *admin.ValidationError
	if !errors.Is(err, admin.ErrInvalid) || !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a ValidationError", err)
	}
	for _, f := range ve.Fields {
		if f.Field == field && f.Message != "" {
			return
		}
	}
	t.Fatalf("fields = %+v, want one for %q", ve.Fields, field)
}

func TestAPIValidation(t *testing.T) {
	ok := func() *storage.API {
		return &storage.API{Identifier: "https://api.example.com/", Name: "api", Scopes: []storage.Scope{{Name: "read"}, {Name: "write"}}}
	}
	many := make([]storage.Scope, admin.MaxScopesPerAPI+1)
	for i := range many {
		many[i].Name = "s" + string(rune('a'+i%26)) + time.Duration(i).String()
	}
	for _, tc := range []struct {
		name, field string
		edit        func(*storage.API)
	}{
		{"identifier not a URI", "identifier", func(a *storage.API) { a.Identifier = "not a url" }},
		{"identifier relative", "identifier", func(a *storage.API) { a.Identifier = "/api" }},
		{"identifier with fragment", "identifier", func(a *storage.API) { a.Identifier = "https://a.example/#x" }},
		{"identifier empty", "identifier", func(a *storage.API) { a.Identifier = "" }},
		{"scope with space", "scopes[1].name", func(a *storage.API) { a.Scopes[1].Name = "read users" }},
		{"scope empty", "scopes[1].name", func(a *storage.API) { a.Scopes[1].Name = "" }},
		{"scope with quote", "scopes[0].name", func(a *storage.API) { a.Scopes[0].Name = `a"b` }},
		{"scope repeated", "scopes[1].name", func(a *storage.API) { a.Scopes[1].Name = "read" }},
		{"too many scopes", "scopes", func(a *storage.API) { a.Scopes = many }},
		{"HS256", "signing_alg", func(a *storage.API) { a.SigningAlg = "HS256" }},
		{"none", "signing_alg", func(a *storage.API) { a.SigningAlg = "none" }},
		{"unknown token format", "token_format", func(a *storage.API) { a.TokenFormat = "paseto" }},
		{"token format in capitals", "token_format", func(a *storage.API) { a.TokenFormat = "OPAQUE" }},
		{"negative lifetime", "token_lifetime", func(a *storage.API) { a.TokenLifetime = -time.Hour }},
		{"lifetime too long", "token_lifetime", func(a *storage.API) { a.TokenLifetime = 31 * 24 * time.Hour }},
		{"name with control", "name", func(a *storage.API) { a.Name = "a\x00b" }},
		{"exchange scope undefined", "token_exchange.scopes[1]", func(a *storage.API) {
			a.TokenExchange = &storage.ExchangePolicy{Scopes: []string{"read", "admin"}}
		}},
		{"exchange subject audience not a URI", "token_exchange.subject_audiences[0]", func(a *storage.API) {
			a.TokenExchange = &storage.ExchangePolicy{SubjectAudiences: []string{"not a uri"}}
		}},
		{"exchange issuer not a URI", "token_exchange.issuers[0]", func(a *storage.API) {
			a.TokenExchange = &storage.ExchangePolicy{Issuers: []string{""}}
		}},
		{"exchange client repeated", "token_exchange.clients[1]", func(a *storage.API) {
			a.TokenExchange = &storage.ExchangePolicy{Clients: []string{"c", "c"}}
		}},
		{"exchange clients too many", "token_exchange.clients", func(a *storage.API) {
			a.TokenExchange = &storage.ExchangePolicy{Clients: make([]string, admin.MaxListItems+1)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, store := newAdmin(t)
			a := ok()
			tc.edit(a)
			wantField(t, m.CreateAPI(bg, a), tc.field)
			if all, _ := storage.All(bg, store.APIs(), ""); len(all) != 0 {
				t.Fatalf("stored %d APIs after a refused create", len(all))
			}
			// The same rules guard updates.
			good := ok()
			good.Identifier = a.Identifier
			if storage.ValidID(a.Identifier) && m.CreateAPI(bg, good) == nil {
				before, _ := store.APIs().Get(bg, a.Identifier)
				a.Revision = good.Revision
				wantField(t, m.UpdateAPI(bg, a), tc.field)
				after, _ := store.APIs().Get(bg, a.Identifier)
				if !reflect.DeepEqual(before, after) {
					t.Fatal("a refused update changed the stored API")
				}
			}
		})
	}
}

func TestReferencesMustExist(t *testing.T) {
	m, store := newAdmin(t)
	seed(t, m)
	if _, err := m.CreateClient(bg, &storage.Client{ID: "spa", Public: true, GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"https://app.example/cb"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, field string
		write       func() error
	}{
		{"grant of unknown client", "client_id", func() error {
			return m.CreateClientGrant(bg, &storage.ClientGrant{ClientID: "ghost", Audience: usersAPI, Scopes: []string{"read:users"}})
		}},
		{"grant of public client", "client_id", func() error {
			return m.CreateClientGrant(bg, &storage.ClientGrant{ClientID: "spa", Audience: usersAPI, Scopes: []string{"read:users"}})
		}},
		{"grant of unknown API", "audience", func() error {
			return m.CreateClientGrant(bg, &storage.ClientGrant{ClientID: "svc", Audience: "https://nope.example", Scopes: []string{"read:users"}})
		}},
		{"grant of unknown scope", "scope[1]", func() error {
			return m.CreateClientGrant(bg, &storage.ClientGrant{ClientID: "svc", Audience: "https://x.example", Scopes: []string{"read:users", "delete:users"}})
		}},
		{"role of unknown API", "permissions[0].resource_server_identifier", func() error {
			return m.CreateRole(bg, &storage.Role{ID: "r", Name: "r", Permissions: []storage.Permission{{Audience: "https://nope.example", Scope: "read"}}})
		}},
		{"role of unknown scope", "permissions[0].permission_name", func() error {
			return m.CreateRole(bg, &storage.Role{ID: "r", Name: "r", Permissions: []storage.Permission{{Audience: usersAPI, Scope: "delete:users"}}})
		}},
		{"user of unknown role", "roles[0]", func() error { return m.CreateUser(bg, &storage.User{ID: "u", Roles: []string{"ghost"}}) }},
		{"user of unknown group", "groups[0]", func() error { return m.CreateUser(bg, &storage.User{ID: "u", Groups: []string{"ghost"}}) }},
		{"group of unknown role", "roles[0]", func() error { return m.CreateGroup(bg, &storage.Group{ID: "g", Name: "g", Roles: []string{"ghost"}}) }},
		{"machine user id", "user_id", func() error { return m.CreateUser(bg, &storage.User{ID: "svc@clients"}) }},
		{"client redirect javascript", "redirect_uris[0]", func() error {
			_, err := m.CreateClient(bg, &storage.Client{ID: "c2", RedirectURIs: []string{"javascript:alert(1)"}})
			return err
		}},
		{"client unknown grant type", "grant_types[0]", func() error {
			_, err := m.CreateClient(bg, &storage.Client{ID: "c2", GrantTypes: []string{"password"}})
			return err
		}},
		{"client HS256 id token", "id_token_signed_response_alg", func() error {
			_, err := m.CreateClient(bg, &storage.Client{ID: "c2", IDTokenSigningAlg: "HS256"})
			return err
		}},
		{"client requiring DPoP with implicit tokens", "dpop_bound_access_tokens", func() error {
			_, err := m.CreateClient(bg, &storage.Client{ID: "c2", RequireDPoP: true, Public: true, GrantTypes: []string{"authorization_code"},
				RedirectURIs: []string{"https://app.example/cb"}, ResponseTypes: []string{"code", "id_token token"}})
			return err
		}},
		{"client introspects unknown API", "introspect_audiences[0]", func() error {
			_, err := m.CreateClient(bg, &storage.Client{ID: "c2", IntrospectAudiences: []string{"https://nope.example"}})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "grant of unknown scope" {
				must(t, m.CreateAPI(bg, &storage.API{Identifier: "https://x.example", Scopes: []storage.Scope{{Name: "read:users"}}}))
				defer func() { must(t, m.DeleteAPI(bg, "https://x.example")) }()
			}
			wantField(t, tc.write(), tc.field)
		})
	}
	grants, _ := storage.All(bg, store.ClientGrants(), "")
	roles, _ := storage.All(bg, store.Roles(), "")
	users, _ := storage.All(bg, store.Users(), "")
	groups, _ := storage.All(bg, store.Groups(), "")
	clients, _ := storage.All(bg, store.Clients(), "")
	if len(grants) != 1 || len(roles)+len(users)+len(groups) != 0 || len(clients) != 2 {
		t.Fatalf("refused writes stored records: %d grants, %d roles, %d users, %d groups, %d clients", len(grants), len(roles), len(users), len(groups), len(clients))
	}
}

func TestDuplicateIsErrDuplicate(t *testing.T) {
	m, _ := newAdmin(t)
	seed(t, m)
	if err := m.CreateAPI(bg, &storage.API{Identifier: usersAPI}); !errors.Is(err, storage.ErrDuplicate) {
		t.Fatalf("CreateAPI twice = %v, want ErrDuplicate", err)
	}
	if _, err := m.CreateClient(bg, &storage.Client{ID: "svc"}); !errors.Is(err, storage.ErrDuplicate) {
		t.Fatalf("CreateClient twice = %v, want ErrDuplicate", err)
	}
}

func TestDeleteAPICascades(t *testing.T) {
	m, store := newAdmin(t)
	seed(t, m)
	must(t, m.CreateRole(bg, &storage.Role{ID: "reader", Name: "Reader", Permissions: []storage.Permission{{Audience: usersAPI, Scope: "read:users"}}}))
	must(t, m.CreateUser(bg, &storage.User{ID: "alice"}))
	must(t, m.CreateConsent(bg, &storage.Consent{UserID: "alice", ClientID: "svc", Audience: usersAPI, Scopes: []string{"read:users"}}))
	must(t, m.DeleteAPI(bg, usersAPI))
	if g, _ := storage.All(bg, store.ClientGrants(), ""); len(g) != 0 {
		t.Fatalf("client grants left: %d", len(g))
	}
	if c, _ := storage.All(bg, store.Consents(), ""); len(c) != 0 {
		t.Fatalf("consents left: %d", len(c))
	}
	r, _ := store.Roles().Get(bg, "reader")
	if len(r.Permissions) != 0 {
		t.Fatalf("role permissions left: %v", r.Permissions)
	}
	must(t, m.CreateAPI(bg, &storage.API{Identifier: "https://mgmt.example", Managed: true}))
	if err := m.DeleteAPI(bg, "https://mgmt.example"); !errors.Is(err, admin.ErrManaged) {
		t.Fatalf("DeleteAPI(managed) = %v, want ErrManaged", err)
	}
}

func TestRemovingScopeCascades(t *testing.T) {
	m, store := newAdmin(t)
	seed(t, m)
	must(t, m.CreateRole(bg, &storage.Role{ID: "writer", Name: "Writer", Permissions: []storage.Permission{{Audience: usersAPI, Scope: "read:users"}, {Audience: usersAPI, Scope: "write:users"}}}))
	a, err := m.GetAPI(bg, usersAPI)
	must(t, err)
	a.Scopes = a.Scopes[:1]
	must(t, m.UpdateAPI(bg, a))
	g, _ := store.ClientGrants().Get(bg, storage.JoinKey("svc", usersAPI))
	if !reflect.DeepEqual(g.Scopes, []string{"read:users"}) {
		t.Fatalf("grant scopes = %v", g.Scopes)
	}
	r, _ := store.Roles().Get(bg, "writer")
	if len(r.Permissions) != 1 || r.Permissions[0].Scope != "read:users" {
		t.Fatalf("role permissions = %v", r.Permissions)
	}
}

func TestDeleteRoleAndGroupCascade(t *testing.T) {
	m, store := newAdmin(t)
	seed(t, m)
	must(t, m.CreateRole(bg, &storage.Role{ID: "reader", Name: "Reader"}))
	must(t, m.CreateGroup(bg, &storage.Group{ID: "staff", Name: "Staff", Roles: []string{"reader"}}))
	must(t, m.CreateUser(bg, &storage.User{ID: "alice", Roles: []string{"reader"}}))
	must(t, m.AddGroupMember(bg, "staff", "alice"))
	members, err := m.ListGroupMembers(bg, "staff", admin.Query{})
	must(t, err)
	if len(members.Items) != 1 || members.Items[0].ID != "alice" {
		t.Fatalf("members = %v", members.Items)
	}
	must(t, m.DeleteRole(bg, "reader"))
	u, _ := store.Users().Get(bg, "alice")
	g, _ := store.Groups().Get(bg, "staff")
	if len(u.Roles) != 0 || len(g.Roles) != 0 {
		t.Fatalf("role still held: user %v, group %v", u.Roles, g.Roles)
	}
	must(t, m.DeleteGroup(bg, "staff"))
	if u, _ = store.Users().Get(bg, "alice"); len(u.Groups) != 0 {
		t.Fatalf("user still in group: %v", u.Groups)
	}
}

func TestDeleteClientRevokesFamilies(t *testing.T) {
	m, store := newAdmin(t)
	seed(t, m)
	must(t, m.CreateUser(bg, &storage.User{ID: "alice"}))
	must(t, m.CreateConsent(bg, &storage.Consent{UserID: "alice", ClientID: "svc", Audience: usersAPI, Scopes: []string{"read:users"}}))
	exp := time.Now().Add(time.Hour)
	must(t, store.CreateFamily(bg, &storage.Family{ID: "f-svc", ClientID: "svc", Subject: "alice", ExpiresAt: exp, CreatedAt: time.Now()}, nil))
	must(t, store.CreateFamily(bg, &storage.Family{ID: "f-other", ClientID: "other", Subject: "alice", ExpiresAt: exp, CreatedAt: time.Now()}, nil))
	must(t, m.DeleteClient(bg, "svc"))
	fams, err := m.ListFamilies(bg, "alice")
	must(t, err)
	for _, f := range fams {
		if f.Revoked != (f.ID == "f-svc") {
			t.Fatalf("family %s revoked = %v", f.ID, f.Revoked)
		}
	}
	if g, _ := storage.All(bg, store.ClientGrants(), ""); len(g) != 0 {
		t.Fatalf("client grants left: %d", len(g))
	}
	if c, _ := storage.All(bg, store.Consents(), ""); len(c) != 0 {
		t.Fatalf("consents left: %d", len(c))
	}
}

func TestDeleteUserRevokesFamilies(t *testing.T) {
	m, store := newAdmin(t)
	seed(t, m)
	must(t, m.CreateUser(bg, &storage.User{ID: "alice"}))
	must(t, store.CreateFamily(bg, &storage.Family{ID: "f1", ClientID: "svc", Subject: "alice", ExpiresAt: time.Now().Add(time.Hour)}, nil))
	must(t, m.DeleteUser(bg, "alice"))
	fams, _ := store.ListFamilies(bg, "alice")
	if len(fams) != 1 || !fams[0].Revoked {
		t.Fatalf("families = %+v, want f1 revoked", fams)
	}
}

func TestStaleRevisionConflicts(t *testing.T) {
	m, store := newAdmin(t)
	seed(t, m)
	a, _ := m.GetAPI(bg, usersAPI)
	b := *a
	a.Name = "first"
	must(t, m.UpdateAPI(bg, a))
	b.Name = "second"
	if err := m.UpdateAPI(bg, &b); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("stale UpdateAPI = %v, want ErrConflict", err)
	}
	if got, _ := store.APIs().Get(bg, usersAPI); got.Name != "first" {
		t.Fatalf("name = %q, the stale write overwrote", got.Name)
	}
	g, _ := m.GetClientGrant(bg, "svc", usersAPI)
	g.Revision++
	if err := m.UpdateClientGrant(bg, g); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("stale UpdateClientGrant = %v, want ErrConflict", err)
	}
}

func TestConcurrentUpdatesOneWins(t *testing.T) {
	m, _ := newAdmin(t)
	must(t, m.CreateRole(bg, &storage.Role{ID: "r", Name: "start"}))
	read, _ := m.GetRole(bg, "r")
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := *read
			r.Name = "writer"
			errs[i] = m.UpdateRole(bg, &r)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrConflict):
			t.Fatalf("update = %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d updates of one revision won, want 1", won)
	}
}

func TestListPages(t *testing.T) {
	m, _ := newAdmin(t)
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		must(t, m.CreateRole(bg, &storage.Role{ID: id, Name: id}))
	}
	var got []string
	q := admin.Query{Limit: 2}
	for {
		p, err := m.ListRoles(bg, q)
		must(t, err)
		for _, r := range p.Items {
			got = append(got, r.ID)
		}
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	if !reflect.DeepEqual(got, []string{"a", "b", "c", "d", "e"}) {
		t.Fatalf("pages = %v", got)
	}
	if _, err := m.ListRoles(bg, admin.Query{Limit: admin.MaxPageSize + 1}); !errors.Is(err, admin.ErrInvalid) {
		t.Fatalf("oversized page = %v", err)
	}
}

func TestListKeysHidesPrivateKeys(t *testing.T) {
	m, _ := newAdmin(t)
	if _, err := m.RotateKey(bg, "HS256"); !errors.Is(err, admin.ErrInvalid) {
		t.Fatalf("RotateKey(HS256) = %v", err)
	}
	kid, err := m.RotateKey(bg, "ES256")
	must(t, err)
	p, err := m.ListKeys(bg, admin.Query{})
	must(t, err)
	found := false
	for _, k := range p.Items {
		if k.JWK != nil {
			t.Fatal("ListKeys returned private key material")
		}
		found = found || k.ID == kid
	}
	if !found {
		t.Fatal("rotated key not listed")
	}
	must(t, m.RetireKey(bg, kid))
	must(t, m.RemoveKey(bg, kid))
}

// TestDeleteRepeatsCascades: a delete whose record is already gone (a call
// that failed half-way, or a record deleted from the store directly) still
// cleans up what names it, and reports ErrNotFound.
func TestDeleteRepeatsCascades(t *testing.T) {
	m, store := newAdmin(t)
	must(t, m.CreateRole(bg, &storage.Role{ID: "reader", Name: "Reader"}))
	must(t, m.CreateUser(bg, &storage.User{ID: "alice", Roles: []string{"reader"}}))
	must(t, store.Roles().Delete(bg, "reader"))
	if err := m.DeleteRole(bg, "reader"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteRole(gone) = %v, want ErrNotFound", err)
	}
	if u, _ := store.Users().Get(bg, "alice"); len(u.Roles) != 0 {
		t.Fatalf("user still holds the deleted role: %v", u.Roles)
	}
}
