package authz

import (
	"context"
	"testing"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

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
	s, err := New(context.Background(), Config{Issuer: "https://auth.example.com/", Store: store, Grants: []Grant{machineGrant{}}})
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
	resp, err := s.Issue(ctx, &TokenRequest{GrantType: "client_credentials", ClientID: "m", ClientSecret: secret, AuthMethod: oauth.AuthBasic, Audience: api})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authorizer(api).Authorize(ctx, resp.AccessToken, resource.Requirement{AllOf: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	if s.cache.Len() != 1 {
		t.Fatal("verified token not cached")
	}
	if err := s.Revoke(ctx, "m", resp.AccessToken); err != nil {
		t.Fatal(err)
	}
	if s.cache.Len() != 0 {
		t.Fatal("revoked token still cached")
	}
	// RemoveKey drops the entries of the key.
	if _, err := s.Authorizer(api).Authorize(ctx, resp.AccessToken, resource.Requirement{}); err == nil {
		t.Fatal("revoked token accepted")
	}
	resp, err = s.Issue(ctx, &TokenRequest{GrantType: "client_credentials", ClientID: "m", ClientSecret: secret, AuthMethod: oauth.AuthBasic, Audience: api})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authorizer(api).Authorize(ctx, resp.AccessToken, resource.Requirement{}); err != nil {
		t.Fatal(err)
	}
	k, err := s.Keys().Signer("RS256")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveKey(ctx, k.ID()); err != nil {
		t.Fatal(err)
	}
	if s.cache.Len() != 0 {
		t.Fatalf("%d cached tokens left after removing their key", s.cache.Len())
	}
}
