package mongo_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/integration/mongoserver"
	"github.com/scopekit/scopekit/integration/processtb"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/mongo"
)

// mongoURI is the connection string of the embedded server TestMain starts
// for the examples.
var mongoURI string

func TestMain(m *testing.M) {
	processtb.Main(m, func(t *processtb.TB) {
		mongoURI = mongoserver.StartMongo(t).URI
	})
}

// An issuer over MongoDB: New does no I/O, so the process creates the
// indexes once at start (EnsureIndexes), then issues, introspects and
// revokes a client-credentials token. A replica set or a sharded cluster
// takes the same code with its connection string.
func Example() {
	ctx := context.Background()
	client, err := mongodriver.Connect(ctx, options.Client().ApplyURI(mongoURI))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	db := client.Database("scopekit_example")
	defer db.Drop(ctx)
	store, err := mongo.New(db, nil)
	if err != nil {
		log.Fatal(err)
	}
	_, err = store.EnsureIndexes(ctx)
	fmt.Println("EnsureIndexes:", err)

	srv, err := authz.New(ctx, authz.Config{Issuer: "https://auth.example.com/", Store: store,
		Grants: []authz.Grant{grant.ClientCredentials{}}})
	if err != nil {
		log.Fatal(err)
	}
	m := admin.New(srv)
	_ = m.CreateAPI(ctx, &storage.API{Identifier: "https://users.example.com", Scopes: []storage.Scope{{Name: "read:users"}}})
	secret, _ := m.CreateClient(ctx, &storage.Client{ID: "reporting", GrantTypes: []string{oauth.GrantClientCredentials}})
	_ = m.CreateClientGrant(ctx, &storage.ClientGrant{ClientID: "reporting", Audience: "https://users.example.com",
		Scopes: []string{"read:users"}})

	resp, err := srv.Issue(ctx, &authz.TokenRequest{GrantType: oauth.GrantClientCredentials, ClientID: "reporting",
		ClientSecret: secret, AuthMethod: oauth.AuthBasic, Audience: "https://users.example.com"})
	if err != nil {
		log.Fatal(err)
	}
	in, _ := srv.Introspect(ctx, resp.AccessToken)
	fmt.Println(in.Active, in.Scope)
	fmt.Println(srv.Revoke(ctx, "reporting", resp.AccessToken))
	in, _ = srv.Introspect(ctx, resp.AccessToken)
	fmt.Println(in.Active)
	// Output:
	// EnsureIndexes: <nil>
	// true read:users
	// <nil>
	// false
}
