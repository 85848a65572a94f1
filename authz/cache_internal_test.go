package authz

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

func principalFor(jti string, exp time.Time) *Principal {
	return &Principal{Subject: "s", ClientID: "c", Scope: "read", Audience: []string{"api"}, JTI: jti,
		ExpiresAt: exp, Claims: map[string]any{"jti": jti}}
}

func TestVerifiedCacheBound(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	for _, max := range []int{1, 3, 10, 100} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			c := newVerifiedCache(max)
			for i := 0; i < 5*max+7; i++ {
				raw := fmt.Sprint("token-", i)
				c.put(raw, "kid", principalFor(raw, exp))
				if n := c.len(); n > max {
					t.Fatalf("%d entries in a cache of %d", n, max)
				}
				if c.get(raw, time.Now()) == nil {
					t.Fatalf("the token just put is not cached")
				}
			}
		})
	}
}

func TestVerifiedCacheEntries(t *testing.T) {
	now := time.Now()
	exp := now.Add(time.Minute)
	c := newVerifiedCache(10)
	c.put("a", "k1", principalFor("a", exp))
	c.put("b", "k2", principalFor("b", exp))
	c.put("c", "k1", principalFor("c", exp))
	t.Run("valid until exp", func(t *testing.T) {
		if c.get("a", exp.Add(-time.Nanosecond)) == nil {
			t.Fatal("not served before exp")
		}
		if c.get("a", exp) != nil || c.get("a", exp.Add(time.Hour)) != nil {
			t.Fatal("served at or after exp")
		}
	})
	t.Run("forget one", func(t *testing.T) {
		c.forget("b")
		if c.get("b", now) != nil || c.get("a", now) == nil {
			t.Fatal("forget dropped the wrong entry")
		}
		c.put("b", "k2", principalFor("b", exp))
	})
	t.Run("forget by key", func(t *testing.T) {
		c.forgetKey("k1")
		if c.get("a", now) != nil || c.get("c", now) != nil || c.get("b", now) == nil {
			t.Fatal("forgetKey dropped the wrong entries")
		}
	})
	t.Run("forget all", func(t *testing.T) {
		c.forget("")
		if c.len() != 0 {
			t.Fatalf("%d entries left", c.len())
		}
	})
	t.Run("tamper check", func(t *testing.T) {
		p := principalFor("d", exp)
		c.put("d", "k", p)
		e := c.get("d", now)
		if e == nil || !e.intact() {
			t.Fatal("fresh entry not intact")
		}
		p.Audience[0] = "other"
		if e.intact() {
			t.Fatal("a modified audience went unnoticed")
		}
		if e.audience[0] != "api" {
			t.Fatal("the entry shares the principal's audience array")
		}
	})
	t.Run("disabled", func(t *testing.T) {
		off := newVerifiedCache(-1)
		if off != nil {
			t.Fatal("a negative size did not disable the cache")
		}
		off.put("x", "k", principalFor("x", exp))
		if off.get("x", now) != nil || off.len() != 0 {
			t.Fatal("a disabled cache served an entry")
		}
		off.forget("x")
		off.forgetKey("k")
	})
}

// machineGrant issues what the client grant allows: enough of
// client_credentials for an in-package test (package grant imports authz).
type machineGrant struct{}

func (machineGrant) GrantType() string { return "client_credentials" }

func (machineGrant) Decide(_ context.Context, x *Exchange) (*Decision, error) {
	return &Decision{Trigger: TriggerClientCredentials, GrantType: "client-credentials",
		Subject: x.Client.ID + "@clients", API: x.API, Scopes: x.ClientGrant.Scopes}, nil
}

// TestRevokeForgetsCachedToken: revoking through the server drops the
// cache entry, not only records the revocation.
func TestRevokeForgetsCachedToken(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	const api = "https://api.example.com"
	if err := store.APIs().Create(ctx, &storage.API{Identifier: api, Scopes: []storage.Scope{{Name: "read"}}}); err != nil {
		t.Fatal(err)
	}
	s, err := New(ctx, Config{Issuer: "https://auth.example.com/", Store: store, Grants: []Grant{machineGrant{}}})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := s.CreateClient(ctx, &storage.Client{ID: "m", GrantTypes: []string{"client_credentials"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "m", Audience: api, Scopes: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	resp, err := s.Issue(ctx, &TokenRequest{GrantType: "client_credentials", ClientID: "m", ClientSecret: secret, AuthMethod: AuthPost, Audience: api})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authorizer(api).Authorize(ctx, resp.AccessToken, Requirement{AllOf: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	if s.cache.get(resp.AccessToken, s.Now()) == nil {
		t.Fatal("verified token not cached")
	}
	if err := s.Revoke(ctx, "m", resp.AccessToken); err != nil {
		t.Fatal(err)
	}
	if s.cache.get(resp.AccessToken, s.Now()) != nil {
		t.Fatal("revoked token still cached")
	}
	// RemoveKey drops the entries of the key.
	if _, err := s.Authorizer(api).Authorize(ctx, resp.AccessToken, Requirement{}); err == nil {
		t.Fatal("revoked token accepted")
	}
	resp, err = s.Issue(ctx, &TokenRequest{GrantType: "client_credentials", ClientID: "m", ClientSecret: secret, AuthMethod: AuthPost, Audience: api})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authorizer(api).Authorize(ctx, resp.AccessToken, Requirement{}); err != nil {
		t.Fatal(err)
	}
	k, err := s.Keys().Signer("RS256")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveKey(ctx, k.ID()); err != nil {
		t.Fatal(err)
	}
	if s.cache.len() != 0 {
		t.Fatalf("%d cached tokens left after removing their key", s.cache.len())
	}
}
