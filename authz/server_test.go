package authz_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// deafKeys is a store whose signing-key collection ignores the caller's
// context, as a driver may, and runs hook on each List.
type deafKeys struct {
	storage.Store
	hook func()
}

func (s deafKeys) Keys() storage.Collection[storage.SigningKey] {
	return deafCollection{s.Store.Keys(), s.hook}
}

type deafCollection struct {
	storage.Collection[storage.SigningKey]
	hook func()
}

func (c deafCollection) List(_ context.Context, q storage.ListQuery) (storage.Page[storage.SigningKey], error) {
	c.hook()
	return c.Collection.List(context.Background(), q)
}

func (c deafCollection) Create(_ context.Context, rec *storage.SigningKey) error {
	return c.Collection.Create(context.Background(), rec)
}

// TestNewHonoursContext: the ctx of New bounds the loading of the signing
// keys. A cancelled ctx fails New with ctx's error and creates no key, even
// over a store that does not check contexts itself, and even when the ctx
// is cancelled between the load and the creation of the first key.
func TestNewHonoursContext(t *testing.T) {
	cfg := func(store storage.Store) authz.Config {
		return authz.Config{Issuer: "https://issuer.example/", Store: store, Grants: []authz.Grant{grant.ClientCredentials{}}}
	}
	noKeys := func(t *testing.T, store storage.Store) {
		t.Helper()
		keys, err := storage.All(context.Background(), store.Keys(), "")
		if err != nil || len(keys) != 0 {
			t.Fatalf("keys in the store after a cancelled New: %d, %v", len(keys), err)
		}
	}
	t.Run("CancelledBefore", func(t *testing.T) {
		store := memory.New()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		srv, err := authz.New(ctx, cfg(deafKeys{store, func() {}}))
		if !errors.Is(err, context.Canceled) || srv != nil {
			t.Fatalf("New with a cancelled ctx: %v, %v", srv, err)
		}
		noKeys(t, store)
	})
	t.Run("CancelledDuringLoad", func(t *testing.T) {
		store := memory.New()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		srv, err := authz.New(ctx, cfg(deafKeys{store, cancel}))
		if !errors.Is(err, context.Canceled) || srv != nil {
			t.Fatalf("New cancelled while loading keys: %v, %v", srv, err)
		}
		noKeys(t, store)
	})
	t.Run("DeadlineExceeded", func(t *testing.T) {
		store := memory.New()
		ctx, cancel := context.WithDeadline(t.Context(), time.Unix(0, 0))
		defer cancel()
		if _, err := authz.New(ctx, cfg(store)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("New past its deadline: %v", err)
		}
		noKeys(t, store)
	})
	t.Run("Live", func(t *testing.T) {
		store := memory.New()
		if _, err := authz.New(t.Context(), cfg(store)); err != nil {
			t.Fatal(err)
		}
		if keys, _ := storage.All(context.Background(), store.Keys(), ""); len(keys) != 1 {
			t.Fatalf("New created %d keys, want 1", len(keys))
		}
	})
}
