package authz

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// TestRetrySecretIsNoSigningKey: the retry secret shares the signing-key
// collection, but the key operations refuse it, so that no one can retire
// or remove it by kid and turn every retry in the window into a reuse
// alarm with a new secret.
func TestRetrySecretIsNoSigningKey(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	s, err := New(ctx, Config{Issuer: "https://auth.example.com/", Store: store, Grants: []Grant{machineGrant{}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first, err := s.retryKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RetireKey(ctx, retrySecretKid); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("RetireKey(retry secret) = %v, want ErrNotFound", err)
	}
	if err := s.RemoveKey(ctx, retrySecretKid); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("RemoveKey(retry secret) = %v, want ErrNotFound", err)
	}
	rec, err := store.Keys().Get(ctx, retrySecretKid)
	if err != nil || !rec.RetiredAt.IsZero() {
		t.Fatalf("the retry secret after the refused calls: %+v, %v", rec, err)
	}
	again, err := New(ctx, Config{Issuer: "https://auth.example.com/", Store: store, Grants: []Grant{machineGrant{}}})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	second, err := again.retryKey(ctx)
	if err != nil || !bytes.Equal(first, second) {
		t.Fatalf("a second replica's retry secret differs (%v)", err)
	}
}
