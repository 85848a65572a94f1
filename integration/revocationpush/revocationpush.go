// Package revocationpush holds the tests of revocation push
// (storage.RevocationWatcher, authz.RevocationPushOn) through two issuers
// over one backend, which each driver's test package runs on its store.
package revocationpush

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
)

// Store is a store that pushes its revocations.
type Store interface {
	storage.Store
	storage.RevocationWatcher
}

// NewStore returns a new store over the backend every call of the test
// shares.
type NewStore func(t *testing.T) Store

// CountingStore counts the revocation lookups that reach the store.
type CountingStore struct {
	Store
	lookups atomic.Int64
}

// TokenRevoked implements storage.Revocations, counting the call.
func (c *CountingStore) TokenRevoked(ctx context.Context, family, jti string) (bool, error) {
	c.lookups.Add(1)
	return c.Store.TokenRevoked(ctx, family, jti)
}

// Lookups is how many revocation lookups reached the store.
func (c *CountingStore) Lookups() int64 { return c.lookups.Load() }

// Replicas returns two issuers over one backend, each store counting its
// revocation lookups, with a client-credentials client "svc" of the first
// and its secret.
func Replicas(t *testing.T, newStore NewStore, mode authz.RevocationPushMode) (a, b *authz.Server, bs *CountingStore, secret string) {
	t.Helper()
	a = Issuer(t, &CountingStore{Store: newStore(t)}, mode)
	bs = &CountingStore{Store: newStore(t)}
	b = Issuer(t, bs, mode)
	return a, b, bs, CreateSvc(t, a)
}

// Issuer returns an issuer over s granting client credentials for
// https://api.example.com, closed when the test ends.
func Issuer(t *testing.T, s storage.Store, mode authz.RevocationPushMode) *authz.Server {
	t.Helper()
	is, err := authz.New(context.Background(), authz.Config{Issuer: "https://auth.example.com/", Store: s,
		Grants: []authz.Grant{grant.ClientCredentials{}}, DefaultAudience: "https://api.example.com",
		RevocationPush: mode})
	must(t, err)
	t.Cleanup(func() { _ = is.Close() })
	return is
}

// CreateSvc creates, through s, the API and the client "svc" allowed its
// "read" scope, and returns the client's secret.
func CreateSvc(t *testing.T, s *authz.Server) string {
	t.Helper()
	ctx := context.Background()
	m := admin.New(s)
	must(t, m.CreateAPI(ctx, &storage.API{Identifier: "https://api.example.com", Scopes: []storage.Scope{{Name: "read"}}}))
	secret, err := m.CreateClient(ctx, &storage.Client{ID: "svc", GrantTypes: []string{oauth.GrantClientCredentials}})
	must(t, err)
	must(t, m.CreateClientGrant(ctx, &storage.ClientGrant{ClientID: "svc", Audience: "https://api.example.com", Scopes: []string{"read"}}))
	return secret
}

// Issue returns an access token of "svc" issued by s.
func Issue(t *testing.T, s *authz.Server, secret string) string {
	t.Helper()
	resp, err := s.Issue(context.Background(), &authz.TokenRequest{GrantType: oauth.GrantClientCredentials,
		ClientID: "svc", ClientSecret: secret, AuthMethod: oauth.AuthBasic, Audience: "https://api.example.com"})
	must(t, err)
	return resp.AccessToken
}

// PushedAcrossReplicas: with revocations pushed, a token B verified before
// costs B no store call, and once A revokes it B refuses it, from its
// cache, within a bounded wait. It logs how long the revocation took to
// reach B.
func PushedAcrossReplicas(t *testing.T, newStore NewStore) {
	a, b, bs, secret := Replicas(t, newStore, authz.RevocationPushOn)
	ctx := context.Background()
	raw := Issue(t, a, secret)
	req := resource.Requirement{AllOf: []string{"read"}}
	if _, err := b.Authorize(ctx, raw, req); err != nil {
		t.Fatal(err)
	}
	if n := bs.Lookups(); n != 1 {
		t.Fatalf("fresh check: %d store lookups, want 1", n)
	}
	for range 10 {
		if _, err := b.Authorize(ctx, raw, req); err != nil {
			t.Fatal(err)
		}
	}
	if n := bs.Lookups(); n != 1 {
		t.Fatalf("cached checks made %d store lookups, want none", n-1)
	}
	must(t, a.Revoke(ctx, "svc", raw))
	revoked := time.Now()
	WaitFor(t, "the revocation at A refused by B", func() bool { return invalidToken(b.Authorize(ctx, raw, req)) })
	t.Logf("revocation at A refused by B after %v", time.Since(revoked))
	if n := bs.Lookups(); n != 1 {
		t.Fatalf("B refused the revoked token after %d store lookups, want none: the push must reach it", n-1)
	}
}

// PushOffAsksStore: the strict mode asks the store on every check, a
// cached token's included.
func PushOffAsksStore(t *testing.T, newStore NewStore) {
	a, b, bs, secret := Replicas(t, newStore, authz.RevocationPushOff)
	ctx := context.Background()
	raw := Issue(t, a, secret)
	for range 3 {
		if _, err := b.Authorize(ctx, raw, resource.Requirement{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := bs.Lookups(); n != 3 {
		t.Fatalf("%d store lookups for 3 checks, want 3", n)
	}
	must(t, a.Revoke(ctx, "svc", raw))
	if _, err := b.Authorize(ctx, raw, resource.Requirement{}); err == nil {
		t.Fatal("revoked token accepted")
	}
}

// PushLostFallsBack: a revocation written after lose broke B's
// subscription is never pushed to B, yet B refuses the token it cached,
// within a bounded wait: it asks the store once it sees the loss.
func PushLostFallsBack(t *testing.T, newStore NewStore, lose func(t *testing.T)) {
	a, b, bs, secret := Replicas(t, newStore, authz.RevocationPushOn)
	ctx := context.Background()
	raw := Issue(t, a, secret)
	if _, err := b.Authorize(ctx, raw, resource.Requirement{}); err != nil {
		t.Fatal(err)
	}
	lose(t)
	// Revoked while B's subscription is down: written to the store only.
	must(t, a.Revoke(ctx, "svc", raw))
	before := bs.Lookups()
	WaitFor(t, "the token revoked while the push was down refused by B", func() bool {
		return invalidToken(b.Authorize(ctx, raw, resource.Requirement{}))
	})
	if bs.Lookups() == before {
		t.Fatal("refused without a store lookup, though no push could carry this revocation")
	}
}

func invalidToken(_ *resource.Principal, err error) bool {
	var e *oauth.Error
	return errors.As(err, &e) && e.Is(oauth.ErrInvalidToken)
}

// WaitFor polls cond until it holds, failing the test after ten seconds;
// the tests of every backend wait with it.
func WaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// WaitClosed drains ch until it is closed, failing the test after ten
// seconds with what should have closed it.
func WaitClosed[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatalf("the subscription stayed open after %s", what)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
