package authz_test

import (
	"context"
	"errors"
	"testing"

	"github.com/scopekit/scopekit/authz"
)

func TestVerifiedTokenCache(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.issue(t, usersAPI).AccessToken
	a := f.srv.Authorizer(usersAPI)
	req := authz.Requirement{AllOf: []string{"read:users"}}
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
		if _, err := a.Authorize(ctx, tok, authz.Requirement{AllOf: []string{"write:users"}}); !errors.Is(err, authz.ErrInsufficientScope) {
			t.Fatalf("%v", err)
		}
		if _, err := a.Authorize(ctx, tok, authz.Requirement{Audience: bankAPI}); !errors.Is(err, authz.ErrInvalidToken) {
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
		if _, err := a2.Authorize(ctx, tok2, req); !errors.Is(err, authz.ErrInvalidToken) {
			t.Fatalf("revoked cached token accepted: %v", err)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		g := newFixture(t, func(c *authz.Config) { c.VerifiedTokenCache = -1 })
		tok := g.issue(t, usersAPI).AccessToken
		for i := 0; i < 2; i++ {
			if _, err := g.srv.Authorizer(usersAPI).Authorize(ctx, tok, req); err != nil {
				t.Fatal(err)
			}
		}
	})
}
