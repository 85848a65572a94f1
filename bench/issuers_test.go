package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/bench/internal/peers"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// The fixture of bench/internal/peers, under the names the benchmarks use.
const (
	clientID     = peers.ClientID
	clientSecret = peers.ClientSecret
	apiID        = peers.APIID
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

// ccForm is the request of every Issue row.
var ccForm = peers.Form()

// scopekitIssuer is scopekit on the memory store, signing with k.
func scopekitIssuer(tb testing.TB, k *benchKey, cache int) *authz.Server {
	return scopekitIssuerOn(tb, memory.New(), k, cache)
}

// scopekitIssuerOn is scopekit on store; cache is Config.VerifiedTokenCache.
func scopekitIssuerOn(tb testing.TB, store storage.Store, k *benchKey, cache int) *authz.Server {
	srv, err := peers.Scopekit(context.Background(), store, k, peers.ScopekitOptions{VerifiedTokenCache: cache})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	return srv
}

// newFosite is fosite with the secret hashing h, signing with k.
func newFosite(tb testing.TB, k *benchKey, h peers.FositeHashing) *peers.Fosite {
	f, err := peers.NewFosite(k, h)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// goOAuth2 is go-oauth2's token endpoint, signing with k.
func goOAuth2(tb testing.TB, k *benchKey) http.Handler {
	h, err := peers.GoOAuth2(k)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// zitadel is zitadel/oidc's provider, signing with k.
func zitadel(tb testing.TB, k *benchKey) http.Handler {
	h, err := peers.Zitadel(k)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}
