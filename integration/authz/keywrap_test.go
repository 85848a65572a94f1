package authz_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
	"github.com/scopekit/scopekit/token"
)

func wrapper(t *testing.T, current byte, older ...byte) *token.AESKeyWrapper {
	t.Helper()
	var old [][]byte
	for _, o := range older {
		old = append(old, bytes.Repeat([]byte{o}, 32))
	}
	w, err := token.NewAESKeyWrapper(bytes.Repeat([]byte{current}, 32), old...)
	must(t, err)
	return w
}

func newKeyServer(store storage.Store, w token.KeyWrapper) (*authz.Server, error) {
	cfg := authz.Config{Issuer: "https://issuer.example/", Store: store, Grants: []authz.Grant{grant.ClientCredentials{}}}
	if w != nil {
		cfg.KeyWrapper = w
	}
	return authz.New(context.Background(), cfg)
}

// storedKeys returns the stored records of every key.
func storedKeys(t *testing.T, store storage.Store) []*storage.SigningKey {
	t.Helper()
	recs, err := storage.All(context.Background(), store.Keys(), "")
	must(t, err)
	return recs
}

// assertWrapped fails when a stored record holds private key material.
func assertWrapped(t *testing.T, store storage.Store) {
	t.Helper()
	for _, r := range storedKeys(t, store) {
		if bytes.Contains(r.JWK, []byte(`"d"`)) || !token.IsWrappedJWK(r.JWK) {
			t.Fatalf("key %q is stored in clear: %s", r.ID, r.JWK)
		}
	}
}

// signed returns a token signed by srv's RS256 key and its kid.
func signed(t *testing.T, srv *authz.Server) (string, string) {
	t.Helper()
	k, err := srv.Keys().Signer(token.RS256)
	must(t, err)
	tok, err := k.Sign(token.TypeAccessToken, []byte(`{"sub":"x"}`))
	must(t, err)
	return tok, k.ID()
}

// TestKeyWrapperAtRest: with a wrapper, no stored record holds a private
// key; a restart over the same store loads the keys, which still verify
// the tokens they signed; a wrong wrapping key fails New naming the kid and
// creates no key over it.
func TestKeyWrapperAtRest(t *testing.T) {
	store := memory.New()
	s1, err := newKeyServer(store, wrapper(t, 1))
	must(t, err)
	_, err = s1.RotateKey(context.Background(), token.ES256)
	must(t, err)
	assertWrapped(t, store)
	assertWrapped(t, store)
	ctx := context.Background()
	must(t, store.APIs().Create(ctx, &storage.API{Identifier: usersAPI, Scopes: []storage.Scope{{Name: "read:users"}}}))
	secret, err := s1.CreateClient(ctx, &storage.Client{ID: "svc", GrantTypes: []string{"client_credentials"}})
	must(t, err)
	must(t, store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "svc", Audience: usersAPI, Scopes: []string{"read:users"}}))
	resp, err := s1.Issue(ctx, &authz.TokenRequest{GrantType: "client_credentials", ClientID: "svc", ClientSecret: secret,
		AuthMethod: oauth.AuthBasic, Audience: usersAPI})
	must(t, err)

	s2, err := newKeyServer(store, wrapper(t, 1))
	must(t, err)
	if _, err := s2.Authorizer(usersAPI).Authorize(ctx, resp.AccessToken, resource.Requirement{}); err != nil {
		t.Fatalf("a restarted server rejects a token of the stored key: %v", err)
	}
	if n := len(storedKeys(t, store)); n != 2 {
		t.Fatalf("restart left %d keys, want the 2 stored", n)
	}

	for name, w := range map[string]token.KeyWrapper{"wrong key": wrapper(t, 2), "no wrapper": nil} {
		n := len(storedKeys(t, store))
		_, err := newKeyServer(store, w)
		if err == nil || !errors.Is(err, token.ErrUnwrap) || !strings.Contains(err.Error(), "stored key") {
			t.Errorf("%s: New = %v, want an unwrap error naming the kid", name, err)
		}
		if len(storedKeys(t, store)) != n {
			t.Errorf("%s: New created a key", name)
		}
	}
}

// TestKeyWrapperBindsRecord: a wrapped key copied into another record does
// not unwrap there.
func TestKeyWrapperBindsRecord(t *testing.T) {
	store := memory.New()
	ctx := context.Background()
	s1, err := newKeyServer(store, wrapper(t, 1))
	must(t, err)
	_, err = s1.RotateKey(ctx, token.ES256)
	must(t, err)
	recs := storedKeys(t, store)
	recs[0].JWK, recs[1].JWK = recs[1].JWK, recs[0].JWK
	must(t, store.Keys().Update(ctx, recs[0]))
	must(t, store.Keys().Update(ctx, recs[1]))
	if _, err := newKeyServer(store, wrapper(t, 1)); !errors.Is(err, token.ErrUnwrap) {
		t.Fatalf("swapped records: New = %v, want ErrUnwrap", err)
	}
}

// TestRewrapKeys: keys stored in clear keep loading under a wrapper, and
// RewrapKeys wraps them; after a wrapping-key rotation RewrapKeys re-wraps
// every key under the new one, so the old one can be dropped.
func TestRewrapKeys(t *testing.T) {
	store := memory.New()
	ctx := context.Background()
	s0, err := newKeyServer(store, nil)
	must(t, err)
	_, kid := signed(t, s0)

	s1, err := newKeyServer(store, wrapper(t, 1))
	must(t, err)
	if _, err := s1.Keys().Signer(token.RS256); err != nil || len(storedKeys(t, store)) != 1 {
		t.Fatalf("plaintext key not loaded: %v", err)
	}
	n, err := s1.RewrapKeys(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RewrapKeys = %d, %v", n, err)
	}
	assertWrapped(t, store)

	s2, err := newKeyServer(store, wrapper(t, 2, 1))
	must(t, err)
	if n, err := s2.RewrapKeys(ctx); err != nil || n != 1 {
		t.Fatalf("RewrapKeys after rotation = %d, %v", n, err)
	}
	s3, err := newKeyServer(store, wrapper(t, 2))
	must(t, err)
	if k, err := s3.Keys().Signer(token.RS256); err != nil || k.ID() != kid {
		t.Fatalf("after rotation: %v %v, want the key %q under the new wrapping key alone", k, err, kid)
	}
	if _, err := newKeyServer(store, wrapper(t, 1)); !errors.Is(err, token.ErrUnwrap) {
		t.Fatalf("old wrapping key still opens the keys: %v", err)
	}
}
