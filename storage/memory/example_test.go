package memory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// The memory store judges expiry by its clock, here a fixed one moved by
// hand: a code is taken once, and past its ExpiresAt it is gone. Each tenant
// is a view of the same store that sees only its own records.
func ExampleNew() {
	ctx := context.Background()
	now := time.Date(2030, 1, 2, 15, 0, 0, 0, time.UTC)
	store := memory.New(memory.Clock(func() time.Time { return now }))

	_ = store.CreateCode(ctx, &storage.AuthCode{Hash: "h1", ClientID: "app", ExpiresAt: now.Add(time.Minute)})
	c, err := store.ConsumeCode(ctx, "h1")
	fmt.Println(c.ClientID, err)
	_, err = store.ConsumeCode(ctx, "h1")
	fmt.Println(errors.Is(err, storage.ErrAlreadyUsed))

	_ = store.CreateCode(ctx, &storage.AuthCode{Hash: "h2", ClientID: "app", ExpiresAt: now.Add(time.Minute)})
	now = now.Add(2 * time.Minute)
	_, err = store.ConsumeCode(ctx, "h2")
	fmt.Println(errors.Is(err, storage.ErrNotFound))

	_ = store.Tenant("acme").APIs().Create(ctx, &storage.API{Identifier: "https://users.example.com"})
	_, err = store.APIs().Get(ctx, "https://users.example.com")
	fmt.Println(errors.Is(err, storage.ErrNotFound))
	// Output:
	// app <nil>
	// true
	// true
	// true
}
