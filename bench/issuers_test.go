package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
	"github.com/scopekit/scopekit/token"
)

const (
	clientID     = "svc"
	clientSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"
	apiID        = "https://api.example.com"
	issuerURL    = "https://auth.example.com/"
)

// post sends a client-credentials request with Basic credentials to h.
func post(h http.Handler, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var ccForm = url.Values{"grant_type": {"client_credentials"}, "scope": {"read write"}, "audience": {apiID}}

// scopekitIssuer is scopekit on the memory store, signing with k.
func scopekitIssuer(tb testing.TB, k *benchKey, cache int) *authz.Server {
	return scopekitIssuerOn(tb, memory.New(), k, cache)
}

// scopekitIssuerOn is scopekit on store, which it fills with the API, the
// client and its grant; cache is Config.VerifiedTokenCache.
func scopekitIssuerOn(tb testing.TB, store storage.Store, k *benchKey, cache int) *authz.Server {
	ctx := context.Background()
	srv, err := authz.New(ctx, authz.Config{Issuer: issuerURL, Store: store,
		Keys: token.NewKeySet(k.key), Grants: []authz.Grant{grant.ClientCredentials{}}, VerifiedTokenCache: cache})
	if err != nil {
		tb.Fatal(err)
	}
	steps := []error{
		store.APIs().Create(ctx, &storage.API{Identifier: apiID, Name: "api", SigningAlg: k.alg, Scopes: []storage.Scope{{Name: "read"}, {Name: "write"}}}),
		store.Clients().Create(ctx, &storage.Client{ID: clientID, SecretHash: token.SecretHash(clientSecret), GrantTypes: []string{"client_credentials"}}),
		store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: clientID, Audience: apiID, Scopes: []string{"read", "write"}}),
	}
	for _, err := range steps {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return srv
}
