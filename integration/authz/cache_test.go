package authz_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/token"
)

// testClock is a settable clock, safe to read from server goroutines.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.set(time.Now().Truncate(time.Second))
	return c
}

func (c *testClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *testClock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *testClock) add(d time.Duration) { c.ns.Add(int64(d)) }

// withClock runs the server on c.
func withClock(c *testClock) func(*authz.Config) {
	return func(cfg *authz.Config) { cfg.Now = c.Now }
}

// expOf returns the exp claim of a JWT.
func expOf(t testing.TB, jwt string) time.Time {
	t.Helper()
	return time.Unix(int64(decodePayload(t, jwt)["exp"].(float64)), 0)
}

// kidOf returns the kid header of a JWT.
func kidOf(t testing.TB, jwt string) string {
	t.Helper()
	var hdr struct{ Kid string }
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	must(t, err)
	must(t, json.Unmarshal(b, &hdr))
	return hdr.Kid
}

func TestVerifiedTokenCache(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.issue(t, usersAPI).AccessToken
	a := f.srv.Authorizer(usersAPI)
	req := resource.Requirement{AllOf: []string{"read:users"}}
	if _, err := a.Authorize(ctx, tok, req); err != nil {
		t.Fatal(err)
	}
	t.Run("a repeat costs no allocation", func(t *testing.T) {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := a.Authorize(ctx, tok, req); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Fatalf("%v allocations for a token seen before", allocs)
		}
	})
	t.Run("scopes and audience are still checked", func(t *testing.T) {
		if _, err := a.Authorize(ctx, tok, resource.Requirement{AllOf: []string{"write:users"}}); !errors.Is(err, oauth.ErrInsufficientScope) {
			t.Fatalf("%v", err)
		}
		if _, err := a.Authorize(ctx, tok, resource.Requirement{Audience: bankAPI}); !errors.Is(err, oauth.ErrInvalidToken) {
			t.Fatalf("cached token accepted for another audience: %v", err)
		}
	})
	t.Run("revocation by another replica is seen", func(t *testing.T) {
		other := newFixture(t)
		tok2 := other.issue(t, usersAPI).AccessToken
		a2 := other.srv.Authorizer(usersAPI)
		if _, err := a2.Authorize(ctx, tok2, req); err != nil {
			t.Fatal(err)
		}
		// Revoke straight in the store, as another process would.
		claims := decodePayload(t, tok2)
		must(t, other.store.RevokeToken(ctx, revocationOf(claims)))
		if _, err := a2.Authorize(ctx, tok2, req); !errors.Is(err, oauth.ErrInvalidToken) {
			t.Fatalf("revoked cached token accepted: %v", err)
		}
	})
	t.Run("revocation through the server", func(t *testing.T) {
		tok3 := f.issue(t, usersAPI).AccessToken
		if _, err := a.Authorize(ctx, tok3, req); err != nil {
			t.Fatal(err)
		}
		must(t, f.srv.Revoke(ctx, "reporter", tok3))
		if _, err := a.Authorize(ctx, tok3, req); !errors.Is(err, oauth.ErrInvalidToken) {
			t.Fatalf("revoked cached token accepted: %v", err)
		}
	})
	t.Run("disabled: every check verifies the signature", func(t *testing.T) {
		g := newFixture(t, func(c *authz.Config) { c.VerifiedTokenCache = -1 })
		tok := g.issue(t, usersAPI).AccessToken
		ga := g.srv.Authorizer(usersAPI)
		for i := 0; i < 2; i++ {
			if _, err := ga.Authorize(ctx, tok, req); err != nil {
				t.Fatal(err)
			}
		}
		// A verification decodes the token; a cache hit allocates nothing.
		allocs := testing.AllocsPerRun(10, func() { _, _ = ga.Authorize(ctx, tok, req) })
		if allocs == 0 {
			t.Fatal("a repeat check allocated nothing: the disabled cache still serves hits")
		}
	})
}

// TestCacheExpiresAtExp: a cached token is not served past its exp; past
// exp plus the leeway it is refused.
func TestCacheExpiresAtExp(t *testing.T) {
	clk := newTestClock()
	f := newFixture(t, withClock(clk))
	ctx := context.Background()
	tok := f.issue(t, usersAPI).AccessToken
	exp := expOf(t, tok)
	a := f.srv.Authorizer(usersAPI)
	req := resource.Requirement{AllOf: []string{"read:users"}}
	if _, err := a.Authorize(ctx, tok, req); err != nil {
		t.Fatal(err)
	}
	clk.set(exp.Add(-time.Second))
	if _, err := a.Authorize(ctx, tok, req); err != nil {
		t.Fatalf("a second before exp: %v", err)
	}
	// Past exp the cache no longer serves the token: it is verified again,
	// which costs allocations (and accepts it within the leeway only).
	clk.set(exp.Add(time.Second))
	if allocs := testing.AllocsPerRun(5, func() { _, _ = a.Authorize(ctx, tok, req) }); allocs == 0 {
		t.Fatal("an expired token was served from the cache")
	}
	clk.set(exp.Add(31 * time.Second))
	if _, err := a.Authorize(ctx, tok, req); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("past exp and leeway: %v", err)
	}
}

// TestCacheEvictionWhenFull: a full cache drops entries and keeps answering
// correctly, for cached and evicted tokens alike.
func TestCacheEvictionWhenFull(t *testing.T) {
	f := newFixture(t, func(c *authz.Config) { c.VerifiedTokenCache = 3 })
	ctx := context.Background()
	a := f.srv.Authorizer(usersAPI)
	req := resource.Requirement{AllOf: []string{"read:users"}}
	var toks []string
	for i := 0; i < 8; i++ {
		tok := f.issue(t, usersAPI).AccessToken
		toks = append(toks, tok)
		if _, err := a.Authorize(ctx, tok, req); err != nil {
			t.Fatal(err)
		}
	}
	// The newest token is cached: a repeat costs nothing.
	last := toks[len(toks)-1]
	if allocs := testing.AllocsPerRun(10, func() { _, _ = a.Authorize(ctx, last, req) }); allocs != 0 {
		t.Fatalf("the newest token is not cached: %v allocations", allocs)
	}
	for i, tok := range toks {
		if _, err := a.Authorize(ctx, tok, req); err != nil {
			t.Fatalf("token %d after eviction: %v", i, err)
		}
		if _, err := a.Authorize(ctx, tok, resource.Requirement{AllOf: []string{"write:users"}}); !errors.Is(err, oauth.ErrInsufficientScope) {
			t.Fatalf("token %d: %v", i, err)
		}
	}
}

// TestCachedPrincipalIsNotWritable: a handler that modifies the principal
// it was given (against its contract) changes neither later decisions nor
// what later handlers see.
func TestCachedPrincipalIsNotWritable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.issue(t, usersAPI).AccessToken
	a := f.srv.Authorizer(usersAPI)
	read := resource.Requirement{AllOf: []string{"read:users"}}
	write := resource.Requirement{AllOf: []string{"write:users"}}
	for name, mutate := range map[string]func(p *resource.Principal){
		"scope":    func(p *resource.Principal) { p.Scope = "read:users write:users" },
		"audience": func(p *resource.Principal) { p.Audience[0] = bankAPI },
		"subject":  func(p *resource.Principal) { p.Subject = "admin" },
		"jti":      func(p *resource.Principal) { p.JTI = "other" },
		"expiry":   func(p *resource.Principal) { p.ExpiresAt = p.ExpiresAt.Add(time.Hour) },
		"claims":   func(p *resource.Principal) { p.Claims["https://example.com/admin"] = true },
	} {
		t.Run(name, func(t *testing.T) {
			p, err := a.Authorize(ctx, tok, read)
			must(t, err)
			mutate(p)
			if _, err := a.Authorize(ctx, tok, write); !errors.Is(err, oauth.ErrInsufficientScope) {
				t.Fatalf("write after a modified principal: %v", err)
			}
			p2, err := a.Authorize(ctx, tok, read)
			must(t, err)
			if p2.Scope != "read:users" || p2.Subject != "reporter@clients" || p2.Audience[0] != usersAPI ||
				!p2.ExpiresAt.Equal(expOf(t, tok)) || p2.Claims["https://example.com/admin"] != nil {
				t.Fatalf("a later caller sees the modification: %+v", p2)
			}
			if allocs := testing.AllocsPerRun(10, func() { _, _ = a.Authorize(ctx, tok, read) }); allocs != 0 {
				t.Fatalf("%v allocations once the token is cached again", allocs)
			}
		})
	}
}

// TestRemoveKey: a removed key is no longer published, its tokens stop
// passing at once (cached ones included), and it does not come back from
// the store.
func TestRemoveKey(t *testing.T) {
	clk := newTestClock()
	f := newFixture(t, withClock(clk))
	ctx := context.Background()
	tok := f.issue(t, usersAPI).AccessToken // RS256
	kid := kidOf(t, tok)
	a := f.srv.Authorizer(usersAPI)
	req := resource.Requirement{AllOf: []string{"read:users"}}
	if _, err := a.Authorize(ctx, tok, req); err != nil {
		t.Fatal(err)
	}
	must(t, f.srv.RemoveKey(ctx, kid))
	if _, err := a.Authorize(ctx, tok, req); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("cached token of a removed key: %v", err)
	}
	if strings.Contains(string(f.srv.Keys().JWKS()), kid) {
		t.Fatal("removed key still published")
	}
	if in, err := f.srv.Introspect(ctx, tok); err != nil || in.Active {
		t.Fatalf("introspection of a removed key's token: %+v %v", in, err)
	}
	// The server reloads its keys from the store on an unknown kid: the
	// removed key must not be there.
	clk.add(time.Minute)
	if _, err := a.Authorize(ctx, tok, req); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("removed key came back after a reload: %v", err)
	}
	if _, err := f.store.Keys().Get(ctx, kid); err == nil {
		t.Fatal("removed key still in the store")
	}
	// Issuance for the algorithm goes on with a new key.
	tok2 := f.issue(t, usersAPI).AccessToken
	if kidOf(t, tok2) == kid {
		t.Fatal("a removed key still signs")
	}
	if _, err := a.Authorize(ctx, tok2, req); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.RemoveKey(ctx, "no-such-key"); err == nil {
		t.Fatal("removing an unknown key succeeded")
	}
}

// TestRemoveKeyOfConfiguredKeySet covers Config.Keys, which has no store
// copy.
func TestRemoveKeyOfConfiguredKeySet(t *testing.T) {
	rs, err := token.GenerateKey(token.RS256)
	must(t, err)
	es, err := token.GenerateKey(token.ES256)
	must(t, err)
	f := newFixture(t, func(c *authz.Config) { c.Keys = token.NewKeySet(rs, es) })
	ctx := context.Background()
	tok := f.issue(t, usersAPI).AccessToken
	a := f.srv.Authorizer(usersAPI)
	if _, err := a.Authorize(ctx, tok, resource.Requirement{}); err != nil {
		t.Fatal(err)
	}
	must(t, f.srv.RemoveKey(ctx, rs.ID()))
	if _, err := a.Authorize(ctx, tok, resource.Requirement{}); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("token of a removed configured key: %v", err)
	}
	_, err = f.srv.Issue(ctx, &authz.TokenRequest{GrantType: "client_credentials", ClientID: "reporter",
		ClientSecret: f.secret, AuthMethod: oauth.AuthBasic, Audience: usersAPI})
	if err == nil {
		t.Fatal("issued with no RS256 key configured")
	}
}
