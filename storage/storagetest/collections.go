package storagetest

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// collCase describes one collection for the generic checks.
type collCase[T any] struct {
	coll   func(storage.Store) storage.Collection[T]
	make   func(owner, i int) *T // a fully populated record; owner groups keys by prefix
	key    func(*T) string
	prefix func(owner int) string // the List prefix selecting one owner's records
	mutate func(*T)               // changes a non-key field
}

var epoch = ms(time.Date(2026, 3, 30, 15, 13, 40, 474e6, time.UTC))

func testCollections(t *testing.T, newStore NewStore) {
	t.Run("APIs", func(t *testing.T) {
		testCollection(t, newStore, collCase[storage.API]{
			coll: storage.Store.APIs,
			make: func(o, i int) *storage.API {
				return &storage.API{Identifier: fmt.Sprintf("https://api%d.example.com/%d", o, i), Name: "api",
					Scopes:        []storage.Scope{{Name: "read:x", Description: "Read x"}, {Name: "write:x"}},
					TokenLifetime: 90 * time.Minute, SigningAlg: "ES256", EnforceRBAC: true, AddPermissionsClaim: true,
					AllowSkipConsent: true, AllowOfflineAccess: true,
					TokenExchange: &storage.ExchangePolicy{Clients: []string{"gw"}, SubjectAudiences: []string{"https://up.example.com"},
						Issuers: []string{"https://idp.example.com/"}, Scopes: []string{"read:x"}}}
			},
			key:    func(a *storage.API) string { return a.Key() },
			prefix: func(o int) string { return fmt.Sprintf("https://api%d.", o) },
			mutate: func(a *storage.API) {
				a.Name = "renamed"
				a.Scopes = append(a.Scopes, storage.Scope{Name: "new"})
				a.TokenExchange.Clients[0] = "other"
			},
		})
	})
	t.Run("Clients", func(t *testing.T) {
		testCollection(t, newStore, collCase[storage.Client]{
			coll: storage.Store.Clients,
			make: func(o, i int) *storage.Client {
				return &storage.Client{ID: fmt.Sprintf("c%d-%d", o, i), Name: "app", SecretHash: []byte{1, 2, 3, 250},
					FirstParty: true, RedirectURIs: []string{"https://app.example.com/cb"}, GrantTypes: []string{"authorization_code", "refresh_token"},
					ResponseTypes: []string{"code"}, AuthMethod: "client_secret_basic", IDTokenSigningAlg: "EdDSA",
					AllowedOrigins: []string{"https://spa.example.com"}, RequirePushedAuthorizationRequests: true, CreatedAt: epoch}
			},
			key:    func(c *storage.Client) string { return c.Key() },
			prefix: func(o int) string { return fmt.Sprintf("c%d-", o) },
			mutate: func(c *storage.Client) {
				c.RedirectURIs[0] = "https://evil.example.com/cb"
				c.AllowedOrigins[0] = "https://evil.example.com"
				c.Public = true
			},
		})
	})
	t.Run("ClientGrants", func(t *testing.T) {
		testCollection(t, newStore, collCase[storage.ClientGrant]{
			coll: storage.Store.ClientGrants,
			make: func(o, i int) *storage.ClientGrant {
				return &storage.ClientGrant{ClientID: fmt.Sprintf("c%d", o), Audience: fmt.Sprintf("https://api/%d", i), Scopes: []string{"a", "b"}}
			},
			key:    func(g *storage.ClientGrant) string { return g.Key() },
			prefix: func(o int) string { return storage.JoinKey(fmt.Sprintf("c%d", o), "") },
			mutate: func(g *storage.ClientGrant) { g.Scopes[0] = "z" },
		})
	})
	t.Run("Users", func(t *testing.T) {
		testCollection(t, newStore, collCase[storage.User]{
			coll:   storage.Store.Users,
			make:   func(o, i int) *storage.User { return fullUser(fmt.Sprintf("auth0|u%d-%d", o, i)) },
			key:    func(u *storage.User) string { return u.Key() },
			prefix: func(o int) string { return fmt.Sprintf("auth0|u%d-", o) },
			mutate: func(u *storage.User) {
				u.UserMetadata["nested"].(map[string]any)["k"] = "changed"
				u.Address.Locality = "Elsewhere"
			},
		})
	})
	t.Run("Roles", func(t *testing.T) {
		testCollection(t, newStore, collCase[storage.Role]{
			coll: storage.Store.Roles,
			make: func(o, i int) *storage.Role {
				return &storage.Role{ID: fmt.Sprintf("r%d-%d", o, i), Name: "organizer", Description: "d",
					Permissions: []storage.Permission{{Audience: "https://events", Scope: "create:events"}}}
			},
			key:    func(r *storage.Role) string { return r.Key() },
			prefix: func(o int) string { return fmt.Sprintf("r%d-", o) },
			mutate: func(r *storage.Role) { r.Permissions[0].Scope = "delete:events" },
		})
	})
	t.Run("Groups", func(t *testing.T) {
		testCollection(t, newStore, collCase[storage.Group]{
			coll: storage.Store.Groups,
			make: func(o, i int) *storage.Group {
				return &storage.Group{ID: fmt.Sprintf("g%d-%d", o, i), Name: "staff", Description: "d", Roles: []string{"r1", "r2"}}
			},
			key:    func(g *storage.Group) string { return g.Key() },
			prefix: func(o int) string { return fmt.Sprintf("g%d-", o) },
			mutate: func(g *storage.Group) { g.Roles[1] = "r9" },
		})
	})
	t.Run("Consents", func(t *testing.T) {
		testCollection(t, newStore, collCase[storage.Consent]{
			coll: storage.Store.Consents,
			make: func(o, i int) *storage.Consent {
				return &storage.Consent{UserID: fmt.Sprintf("u%d", o), ClientID: fmt.Sprintf("c%d", i), Audience: "https://bank",
					Scopes: []string{"read:balance"}, GrantedAt: epoch}
			},
			key:    func(c *storage.Consent) string { return c.Key() },
			prefix: func(o int) string { return storage.JoinKey(fmt.Sprintf("u%d", o), "") },
			mutate: func(c *storage.Consent) { c.Scopes[0] = "transfer:funds" },
		})
	})
	t.Run("Keys", func(t *testing.T) {
		testCollection(t, newStore, collCase[storage.SigningKey]{
			coll: storage.Store.Keys,
			make: func(o, i int) *storage.SigningKey {
				return &storage.SigningKey{ID: fmt.Sprintf("k%d-%d", o, i), Alg: "RS256", JWK: []byte(`{"kty":"RSA"}`), CreatedAt: epoch, RetiredAt: epoch.Add(time.Hour)}
			},
			key:    func(k *storage.SigningKey) string { return k.Key() },
			prefix: func(o int) string { return fmt.Sprintf("k%d-", o) },
			mutate: func(k *storage.SigningKey) { k.JWK[0] = '[' },
		})
	})
}

// fullUser has every field set, metadata nested.
func fullUser(id string) *storage.User {
	return &storage.User{
		ID: id, Name: "Jane Doe", GivenName: "Jane", FamilyName: "Doe", MiddleName: "Q", Nickname: "jane",
		PreferredUsername: "jd", Profile: "https://p", Picture: "https://p/a.png", Website: "https://w",
		Email: "jane@example.com", EmailVerified: true, Gender: "female", Birthdate: "1990-01-01",
		Zoneinfo: "Europe/Paris", Locale: "fr-FR", PhoneNumber: "+33 1", PhoneNumberVerified: true,
		Address:   &storage.Address{Formatted: "1 rue", StreetAddress: "1 rue", Locality: "Paris", Region: "IDF", PostalCode: "75001", Country: "FR"},
		UpdatedAt: epoch,
		UserMetadata: map[string]any{"preferred_contact": "email", "score": 1.5,
			"nested": map[string]any{"k": "v", "list": []any{"a", "b"}}},
		AppMetadata: map[string]any{"plan": "gold", "flags": []any{"x"}},
		Roles:       []string{"r1"}, Groups: []string{"g1"},
	}
}

func testCollection[T any](t *testing.T, newStore NewStore, c collCase[T]) {
	// made is c.make(o, i) at the revision rec was given.
	made := func(o, i int, rec *T) *T {
		m := c.make(o, i)
		record(m).SetRev(record(rec).Rev())
		return m
	}
	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		rec := c.make(1, 1)
		Expect(t, c.coll(s).Create(bg, rec), nil, "Create")
		got, err := c.coll(s).Get(bg, c.key(rec))
		Expect(t, err, nil, "Get")
		if !reflect.DeepEqual(got, made(1, 1, rec)) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", got, made(1, 1, rec))
		}
	})
	t.Run("Duplicate", func(t *testing.T) {
		s := newStore(t)
		Expect(t, c.coll(s).Create(bg, c.make(1, 1)), nil, "Create")
		Expect(t, c.coll(s).Create(bg, c.make(1, 1)), storage.ErrDuplicate, "second Create")
	})
	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		rec := c.make(1, 1)
		_, err := c.coll(s).Get(bg, c.key(rec))
		Expect(t, err, storage.ErrNotFound, "Get")
		Expect(t, c.coll(s).Update(bg, rec), storage.ErrNotFound, "Update")
		Expect(t, c.coll(s).Delete(bg, c.key(rec)), storage.ErrNotFound, "Delete")
	})
	t.Run("UpdateDelete", func(t *testing.T) {
		s := newStore(t)
		rec := c.make(1, 1)
		Expect(t, c.coll(s).Create(bg, rec), nil, "Create")
		c.mutate(rec)
		Expect(t, c.coll(s).Update(bg, rec), nil, "Update")
		got, err := c.coll(s).Get(bg, c.key(rec))
		Expect(t, err, nil, "Get")
		if !reflect.DeepEqual(got, rec) {
			t.Fatalf("after Update: got %#v want %#v", got, rec)
		}
		Expect(t, c.coll(s).Delete(bg, c.key(rec)), nil, "Delete")
		_, err = c.coll(s).Get(bg, c.key(rec))
		Expect(t, err, storage.ErrNotFound, "Get after Delete")
		Expect(t, c.coll(s).Update(bg, rec), storage.ErrNotFound, "Update after Delete")
	})
	t.Run("Revisions", func(t *testing.T) { testRevisions(t, newStore, c) })
	t.Run("Copies", func(t *testing.T) {
		s := newStore(t)
		rec := c.make(1, 1)
		Expect(t, c.coll(s).Create(bg, rec), nil, "Create")
		c.mutate(rec)
		got, _ := c.coll(s).Get(bg, c.key(rec))
		if !reflect.DeepEqual(got, made(1, 1, rec)) {
			t.Fatal("changing the record after Create changed the store")
		}
		c.mutate(got)
		again, _ := c.coll(s).Get(bg, c.key(rec))
		if !reflect.DeepEqual(again, made(1, 1, rec)) {
			t.Fatal("changing a returned record changed the store")
		}
	})
	t.Run("List", func(t *testing.T) {
		s := newStore(t)
		var want1 []string
		for _, o := range []int{2, 1} {
			for i := 3; i >= 1; i-- {
				rec := c.make(o, i)
				Expect(t, c.coll(s).Create(bg, rec), nil, "Create")
				if o == 1 {
					want1 = append(want1, c.key(rec))
				}
			}
		}
		sort.Strings(want1)
		all, err := storage.All(bg, c.coll(s), "")
		Expect(t, err, nil, "List all")
		if len(all) != 6 || !sort.SliceIsSorted(all, func(i, j int) bool { return c.key(all[i]) < c.key(all[j]) }) {
			t.Fatalf("List all: %d records, sorted %v", len(all), sort.SliceIsSorted(all, func(i, j int) bool { return c.key(all[i]) < c.key(all[j]) }))
		}
		one, err := storage.All(bg, c.coll(s), c.prefix(1))
		Expect(t, err, nil, "List prefix")
		var got []string
		for _, r := range one {
			got = append(got, c.key(r))
		}
		if !reflect.DeepEqual(got, want1) {
			t.Fatalf("List(%q) = %q, want %q", c.prefix(1), got, want1)
		}
		empty, err := storage.All(bg, c.coll(s), "no-such-prefix")
		Expect(t, err, nil, "List none")
		if len(empty) != 0 {
			t.Fatalf("List of an unused prefix returned %d records", len(empty))
		}
	})
	t.Run("Paging", func(t *testing.T) { testPaging(t, newStore, c) })
	t.Run("EmptyKey", func(t *testing.T) {
		s := newStore(t)
		var zero T
		Expect(t, c.coll(s).Create(bg, &zero), storage.ErrInvalid, "Create with empty key")
	})
}
