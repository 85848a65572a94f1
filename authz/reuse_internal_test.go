package authz

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// reuseServer returns a server reusing client-credentials tokens for a
// minute, on a clock the test moves, with a client "m" granted read and
// write on api.
func reuseServer(t *testing.T, rules ...Rule) (s *Server, issue func(scope string) *TokenResponse, clock *time.Time) {
	ctx := context.Background()
	store := memory.New()
	const api = "https://api.example.com"
	if err := store.APIs().Create(ctx, &storage.API{Identifier: api, Scopes: []storage.Scope{{Name: "read"}, {Name: "write"}}}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock = &now
	s, err := New(ctx, Config{Issuer: "https://auth.example.com/", Store: store, Grants: []Grant{scopedMachineGrant{}},
		ClientCredentialsReuseWindow: time.Minute, Rules: rules, Now: func() time.Time { return *clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	secret, err := s.CreateClient(ctx, &storage.Client{ID: "m", GrantTypes: []string{"client_credentials"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "m", Audience: api, Scopes: []string{"read", "write"}}); err != nil {
		t.Fatal(err)
	}
	issue = func(scope string) *TokenResponse {
		t.Helper()
		resp, err := s.Issue(ctx, &TokenRequest{GrantType: "client_credentials", ClientID: "m", ClientSecret: secret,
			AuthMethod: oauth.AuthBasic, Audience: api, Scopes: strings.Fields(scope)})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	return s, issue, clock
}

// scopedMachineGrant grants the requested scopes of the client grant, or
// all of them when none are requested.
type scopedMachineGrant struct{}

func (scopedMachineGrant) GrantType() string { return "client_credentials" }

func (scopedMachineGrant) Decide(_ context.Context, x *Exchange) (*Decision, error) {
	scopes := x.ClientGrant.Scopes
	if len(x.Request.Scopes) > 0 {
		scopes = x.Request.Scopes
	}
	return &Decision{Trigger: TriggerClientCredentials, GrantType: "client-credentials",
		Subject: x.Client.ID + "@clients", API: x.API, Scopes: scopes, RequestedScopes: x.Request.Scopes}, nil
}

// TestClientCredentialsReuse: an identical request within the window gets
// the same token with its remaining lifetime; other scopes, the window's
// end and a revocation each get a new one, and a revoked token is refused
// and never handed out again.
func TestClientCredentialsReuse(t *testing.T) {
	s, issue, clock := reuseServer(t)
	first := issue("read")
	*clock = clock.Add(30 * time.Second)
	again := issue("read")
	if again.AccessToken != first.AccessToken {
		t.Fatal("identical request within the window signed a new token")
	}
	if again.ExpiresIn != first.ExpiresIn-30 {
		t.Fatalf("reused token's expires_in %d, want %d (its remaining lifetime)", again.ExpiresIn, first.ExpiresIn-30)
	}
	if other := issue("read write"); other.AccessToken == first.AccessToken {
		t.Fatal("a token of other scopes was reused")
	}
	ctx := context.Background()
	if err := s.Revoke(ctx, "m", first.AccessToken); err != nil {
		t.Fatal(err)
	}
	after := issue("read")
	if after.AccessToken == first.AccessToken {
		t.Fatal("a revoked token was handed out again")
	}
	if _, err := s.Authorize(ctx, first.AccessToken, resource.Requirement{Audience: "https://api.example.com"}); err == nil {
		t.Fatal("the revoked shared token is still accepted")
	}
	*clock = clock.Add(61 * time.Second)
	if late := issue("read"); late.AccessToken == after.AccessToken {
		t.Fatal("token reused past the window")
	}
}

// TestClientCredentialsReuseRevokedElsewhere: a token revoked in the store
// by another server is not reused by this one.
func TestClientCredentialsReuseRevokedElsewhere(t *testing.T) {
	s, issue, _ := reuseServer(t)
	first := issue("read")
	claims, err := s.verifyAny(context.Background(), first.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.store.RevokeToken(context.Background(), &storage.Revocation{JTI: claims.JTI, ExpiresAt: claims.ExpiresAt}); err != nil {
		t.Fatal(err)
	}
	if again := issue("read"); again.AccessToken == first.AccessToken {
		t.Fatal("a token revoked in the store was reused")
	}
}

// TestClientCredentialsReuseOffWithRuleClaims: a token to which a rule
// added a claim is never shared.
func TestClientCredentialsReuseOffWithRuleClaims(t *testing.T) {
	_, issue, _ := reuseServer(t, Rule{Name: "stamp", Run: func(_ context.Context, tx *Transaction) error {
		tx.SetAccessTokenClaim("https://example.com/request", "per-request")
		return nil
	}})
	if a, b := issue("read"), issue("read"); a.AccessToken == b.AccessToken {
		t.Fatal("a token carrying a rule's claim was reused")
	}
}
