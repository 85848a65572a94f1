package admin_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// An API with a malformed scope is refused field by field, and nothing is
// stored; a valid one is created and its revision guards the next update.
func Example() {
	ctx := context.Background()
	srv, err := authz.New(context.Background(), authz.Config{Issuer: "https://auth.example.com/", Store: memory.New(), Grants: []authz.Grant{grant.ClientCredentials{}}})
	if err != nil {
		panic(err)
	}
	m := admin.New(srv)

	err = m.CreateAPI(ctx, &storage.API{Identifier: "not a url", Scopes: []storage.Scope{{Name: "read users"}}, SigningAlg: "HS256"})
	var ve *admin.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			fmt.Println(f.Field)
		}
	}

	api := &storage.API{Identifier: "https://users.example.com", Scopes: []storage.Scope{{Name: "read:users"}}}
	fmt.Println(m.CreateAPI(ctx, api))
	stale := *api
	api.Name = "Users"
	fmt.Println(m.UpdateAPI(ctx, api))
	fmt.Println(errors.Is(m.UpdateAPI(ctx, &stale), storage.ErrConflict))
	// Output:
	// identifier
	// scopes[0].name
	// signing_alg
	// <nil>
	// <nil>
	// true
}
