package peers

import (
	"context"
	"slices"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// ScopekitOptions are the scopekit settings a measurement varies.
type ScopekitOptions struct {
	// VerifiedTokenCache is Config.VerifiedTokenCache.
	VerifiedTokenCache int
	// MaxSigningsInFlight is Config.MaxSigningsInFlight.
	MaxSigningsInFlight int
	// ReuseWindow is Config.ClientCredentialsReuseWindow.
	ReuseWindow time.Duration
}

// Scopekit is scopekit on store, which it fills with the API, the client
// and its grant.
func Scopekit(ctx context.Context, store storage.Store, k *Key, o ScopekitOptions) (*authz.Server, error) {
	srv, err := authz.New(ctx, authz.Config{Issuer: IssuerURL, Store: store,
		Keys: token.NewKeySet(k.Key), Grants: []authz.Grant{grant.ClientCredentials{}},
		VerifiedTokenCache: o.VerifiedTokenCache, MaxSigningsInFlight: o.MaxSigningsInFlight,
		ClientCredentialsReuseWindow: o.ReuseWindow,
		// One server per row: revocation push serves other servers'
		// caches (measured by integration/replicas'
		// BenchmarkRevocationPropagation); off, no poller or subscription
		// runs beside the measured loop or adds to its round trips.
		RevocationPush: authz.RevocationPushOff})
	if err != nil {
		return nil, err
	}
	scopes := make([]storage.Scope, len(Scopes))
	for i, s := range Scopes {
		scopes[i] = storage.Scope{Name: s}
	}
	steps := []func() error{
		func() error {
			return store.APIs().Create(ctx, &storage.API{Identifier: APIID, Name: "api", SigningAlg: k.Alg, Scopes: scopes})
		},
		func() error {
			return store.Clients().Create(ctx, &storage.Client{ID: ClientID, SecretHash: token.SecretHash(ClientSecret), GrantTypes: []string{"client_credentials"}})
		},
		func() error {
			return store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: ClientID, Audience: APIID, Scopes: slices.Clone(Scopes)})
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return srv, nil
}
