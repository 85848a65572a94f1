package storage_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// Update is a compare-and-swap on the revision the caller read: of two
// writers holding the same revision, the second fails with ErrConflict and
// writes nothing. It reads the record again and reapplies its change.
func ExampleCollection() {
	ctx := context.Background()
	apis := memory.New().APIs()
	_ = apis.Create(ctx, &storage.API{Identifier: "https://users.example.com", Name: "users"})

	alice, _ := apis.Get(ctx, "https://users.example.com")
	bob, _ := apis.Get(ctx, "https://users.example.com")

	alice.Name = "Users"
	fmt.Println(apis.Update(ctx, alice))

	bob.TokenLifetime = 10 * time.Minute
	err := apis.Update(ctx, bob)
	fmt.Println(errors.Is(err, storage.ErrConflict))

	bob, _ = apis.Get(ctx, "https://users.example.com")
	bob.TokenLifetime = 10 * time.Minute
	fmt.Println(apis.Update(ctx, bob), bob.Name)
	// Output:
	// <nil>
	// true
	// <nil> Users
}
