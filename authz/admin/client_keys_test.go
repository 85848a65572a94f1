package admin_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

func ecJWK(t *testing.T, kid string, private bool) (json.RawMessage, *ecdsa.PrivateKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var key any = &k.PublicKey
	if private {
		key = k
	}
	b, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	return b, k
}

// TestClientJWKs: keys are added, replaced and removed through validation;
// a private key, a duplicate kid, an empty set and a jwks_uri client are
// refused with nothing written.
func TestClientJWKs(t *testing.T) {
	m, store := newAdmin(t)
	ctx := context.Background()
	k1, _ := ecJWK(t, "k1", false)
	set := json.RawMessage(`{"keys":[` + string(k1) + `]}`)
	if _, err := m.CreateClient(ctx, &storage.Client{ID: "svc", AuthMethod: oauth.AuthPrivateKeyJWT, JWKS: set}); err != nil {
		t.Fatal(err)
	}
	k2, _ := ecJWK(t, "k2", false)
	if err := m.AddClientJWK(ctx, "svc", k2); err != nil {
		t.Fatal(err)
	}
	keys := func() []string {
		c, err := store.Clients().Get(ctx, "svc")
		if err != nil {
			t.Fatal(err)
		}
		var s jose.JSONWebKeySet
		if err := json.Unmarshal(c.JWKS, &s); err != nil {
			t.Fatal(err)
		}
		var kids []string
		for _, k := range s.Keys {
			kids = append(kids, k.KeyID)
		}
		return kids
	}
	if got := keys(); len(got) != 2 || got[1] != "k2" {
		t.Fatalf("keys %v", got)
	}
	priv, _ := ecJWK(t, "k3", true)
	for name, err := range map[string]error{
		"private key":   m.AddClientJWK(ctx, "svc", priv),
		"duplicate kid": m.AddClientJWK(ctx, "svc", k2),
		"not JSON":      m.AddClientJWK(ctx, "svc", json.RawMessage(`{`)),
		"private set":   m.UpdateClientJWKS(ctx, "svc", json.RawMessage(`{"keys":[`+string(priv)+`]}`)),
		"empty set":     m.UpdateClientJWKS(ctx, "svc", json.RawMessage(`{"keys":[]}`)),
	} {
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
	}
	if got := keys(); len(got) != 2 {
		t.Fatalf("refused writes changed the keys: %v", got)
	}
	if err := m.RemoveClientJWK(ctx, "svc", "k1"); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveClientJWK(ctx, "svc", "k1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("removing a missing kid: %v", err)
	}
	if err := m.RemoveClientJWK(ctx, "svc", "k2"); !errors.Is(err, admin.ErrInvalid) {
		t.Fatalf("removing the last key: %v", err)
	}
	if got := keys(); len(got) != 1 || got[0] != "k2" {
		t.Fatalf("keys %v", got)
	}
	if err := m.UpdateClientJWKS(ctx, "svc", json.RawMessage(`{"keys":[`+string(k1)+`]}`)); err != nil {
		t.Fatal(err)
	}
	if got := keys(); len(got) != 1 || got[0] != "k1" {
		t.Fatalf("keys after replace %v", got)
	}
	if _, err := m.CreateClient(ctx, &storage.Client{ID: "remote", AuthMethod: oauth.AuthPrivateKeyJWT, JWKSURI: "https://keys.example.com/jwks"}); err != nil {
		t.Fatal(err)
	}
	if err := m.AddClientJWK(ctx, "remote", k1); !errors.Is(err, admin.ErrInvalid) {
		t.Fatalf("inline key for a jwks_uri client: %v", err)
	}
}

// TestReplaceClientJWK: a key is replaced under its kid, keeping the
// others; a body of another kid, a private key and a missing kid are
// refused with nothing written.
func TestReplaceClientJWK(t *testing.T) {
	m, store := newAdmin(t)
	ctx := context.Background()
	k1, _ := ecJWK(t, "k1", false)
	k2, _ := ecJWK(t, "k2", false)
	if _, err := m.CreateClient(ctx, &storage.Client{ID: "svc", AuthMethod: oauth.AuthPrivateKeyJWT,
		JWKS: json.RawMessage(`{"keys":[` + string(k1) + `,` + string(k2) + `]}`)}); err != nil {
		t.Fatal(err)
	}
	stored := func() jose.JSONWebKeySet {
		c, err := store.Clients().Get(ctx, "svc")
		if err != nil {
			t.Fatal(err)
		}
		var s jose.JSONWebKeySet
		if err := json.Unmarshal(c.JWKS, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := stored()
	k3, _ := ecJWK(t, "k3", false)
	k1priv, _ := ecJWK(t, "k1", true)
	for name, c := range map[string]struct {
		kid  string
		key  json.RawMessage
		want error
	}{
		"other kid":   {"k1", k3, admin.ErrInvalid},
		"private key": {"k1", k1priv, admin.ErrInvalid},
		"missing kid": {"k3", k3, storage.ErrNotFound},
	} {
		if err := m.ReplaceClientJWK(ctx, "svc", c.kid, c.key); !errors.Is(err, c.want) {
			t.Fatalf("%s: %v, want %v", name, err, c.want)
		}
	}
	thumbs := func(s jose.JSONWebKeySet) string {
		out := ""
		for _, k := range s.Keys {
			tp, err := k.Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			out += k.KeyID + "=" + string(tp) + ";"
		}
		return out
	}
	if thumbs(stored()) != thumbs(before) {
		t.Fatal("refused replacements changed the set")
	}
	k1b, _ := ecJWK(t, "k1", false)
	if err := m.ReplaceClientJWK(ctx, "svc", "k1", k1b); err != nil {
		t.Fatal(err)
	}
	var want jose.JSONWebKey
	if err := json.Unmarshal(k1b, &want); err != nil {
		t.Fatal(err)
	}
	want2 := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{want, before.Keys[1]}}
	if got := thumbs(stored()); got != thumbs(want2) || got == thumbs(before) {
		t.Fatal("k1 was not replaced in place, k2 kept")
	}
}
