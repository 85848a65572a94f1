package bench

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"testing"
	"time"

	josev3 "github.com/go-jose/go-jose/v3"
	"github.com/go-oauth2/oauth2/v4/generates"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/go-oauth2/oauth2/v4/store"
	"github.com/golang-jwt/jwt/v5"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	fjwt "github.com/ory/fosite/token/jwt"
	"golang.org/x/crypto/bcrypt"
)

// fositeIssuer is ory/fosite composed for client credentials with JWT access
// tokens on its memory store, introspection enabled. hashCost 0 is fosite's
// default (bcrypt cost 12, as shipped).
type fositeIssuer struct {
	provider fosite.OAuth2Provider
	strategy *oauth2.DefaultJWTStrategy
}

func newFosite(tb testing.TB, k *benchKey, hashCost int) *fositeIssuer {
	cfg := &fosite.Config{
		AccessTokenLifespan: time.Hour,
		GlobalSecret:        []byte("some-cool-secret-that-is-32bytes"),
		AccessTokenIssuer:   "https://auth.example.com/",
		HashCost:            hashCost,
	}
	cost := hashCost
	if cost == 0 {
		cost = 12
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(clientSecret), cost)
	if err != nil {
		tb.Fatal(err)
	}
	st := storageWithClient(hash)
	var key any = k.priv
	if _, ok := k.priv.(ed25519.PrivateKey); ok {
		key = &josev3.JSONWebKey{Key: k.priv, Algorithm: "EdDSA", KeyID: k.key.ID()}
	}
	keyGetter := func(context.Context) (interface{}, error) { return key, nil }
	strategy := compose.NewOAuth2JWTStrategy(keyGetter, compose.NewOAuth2HMACStrategy(cfg), cfg)
	provider := compose.Compose(cfg, st, &compose.CommonStrategy{CoreStrategy: strategy, Signer: &fjwt.DefaultSigner{GetPrivateKey: keyGetter}},
		compose.OAuth2ClientCredentialsGrantFactory, compose.OAuth2TokenIntrospectionFactory, compose.OAuth2StatelessJWTIntrospectionFactory)
	return &fositeIssuer{provider: provider, strategy: strategy}
}

func storageWithClient(hash []byte) *storageMemory {
	s := newStorageMemory()
	s.Clients[clientID] = &fosite.DefaultClient{ID: clientID, Secret: hash, GrantTypes: []string{"client_credentials"},
		Scopes: []string{"read", "write"}, Audience: []string{apiID}}
	return s
}

func newJWTSession() *oauth2.JWTSession {
	return &oauth2.JWTSession{JWTClaims: &fjwt.JWTClaims{Subject: clientID}, JWTHeader: &fjwt.Headers{}}
}

// ServeHTTP is the token endpoint as fosite's documentation writes it.
func (f *fositeIssuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := f.provider.NewAccessRequest(ctx, r, newJWTSession())
	if err != nil {
		f.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	for _, s := range ar.GetRequestedScopes() {
		ar.GrantScope(s)
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}
	resp, err := f.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		f.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	f.provider.WriteAccessResponse(ctx, w, ar, resp)
}

// goOAuth2Issuer is go-oauth2/oauth2 v4 with its JWT access-token generator
// and memory stores.
func goOAuth2Issuer(tb testing.TB, k *benchKey) http.Handler {
	method := map[string]jwt.SigningMethod{"RS256": jwt.SigningMethodRS256, "ES256": jwt.SigningMethodES256, "EdDSA": jwt.SigningMethodEdDSA}[k.alg]
	manager := manage.NewDefaultManager()
	manager.MustTokenStorage(store.NewMemoryTokenStore())
	clients := store.NewClientStore()
	if err := clients.Set(clientID, &models.Client{ID: clientID, Secret: clientSecret, Domain: "https://svc.example.com"}); err != nil {
		tb.Fatal(err)
	}
	manager.MapClientStorage(clients)
	manager.MapAccessGenerate(generates.NewJWTAccessGenerate(k.key.ID(), k.pem, method))
	srv := server.NewDefaultServer(manager)
	srv.SetClientInfoHandler(server.ClientBasicHandler)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := srv.HandleTokenRequest(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}
