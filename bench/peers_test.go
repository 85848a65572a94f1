package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	josev3 "github.com/go-jose/go-jose/v3"
	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/go-oauth2/oauth2/v4/store"
	"github.com/golang-jwt/jwt/v5"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	foauth2 "github.com/ory/fosite/handler/oauth2"
	fjwt "github.com/ory/fosite/token/jwt"
	"golang.org/x/crypto/bcrypt"
)

// The claim set every issuer signs (RFC 9068 §2.2), as scopekit writes it
// for a client-credentials token: iss, sub, aud, client_id, azp, scope, gty,
// jti, iat, exp, with the JWS header alg, kid and typ "at+jwt".
const (
	tokenLifetime = time.Hour
	grantTypeName = "client-credentials"
	subjectSuffix = "@clients"
)

// fositeHashing selects how fosite checks the client secret.
type fositeHashing int

const (
	// fositeAsShipped is fosite's default: bcrypt, cost 12.
	fositeAsShipped fositeHashing = iota
	// fositeBcrypt4 is bcrypt at its lowest cost, the cheapest fosite's
	// own hasher allows.
	fositeBcrypt4
	// fositeSHA256 is a ClientSecretsHasher comparing SHA-256 hashes in
	// constant time, as scopekit does: the row that measures fosite's
	// framework work rather than its secret hashing.
	fositeSHA256
)

// sha256Hasher is a fosite.Hasher storing SHA-256(secret) and comparing in
// constant time.
type sha256Hasher struct{}

// Hash returns SHA-256(data).
func (sha256Hasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	h := sha256.Sum256(data)
	return h[:], nil
}

// Compare reports whether hash is SHA-256(data), in constant time.
func (sha256Hasher) Compare(_ context.Context, hash, data []byte) error {
	h := sha256.Sum256(data)
	if subtle.ConstantTimeCompare(hash, h[:]) != 1 {
		return errors.New("secret mismatch")
	}
	return nil
}

// fositeIssuer is ory/fosite composed for client credentials with JWT access
// tokens on its memory store, introspection enabled.
type fositeIssuer struct {
	provider fosite.OAuth2Provider
	strategy *foauth2.DefaultJWTStrategy
	kid      string
}

func newFosite(tb testing.TB, k *benchKey, hashing fositeHashing) *fositeIssuer {
	ctx := context.Background()
	cfg := &fosite.Config{
		AccessTokenLifespan: tokenLifetime,
		GlobalSecret:        []byte("some-cool-secret-that-is-32bytes"),
		AccessTokenIssuer:   issuerURL,
		// "scope" as a space-separated string, as RFC 9068 writes it,
		// instead of fosite's default "scp" array.
		JWTScopeClaimKey: fjwt.JWTScopeFieldString,
	}
	switch hashing {
	case fositeBcrypt4:
		cfg.HashCost = bcrypt.MinCost
	case fositeSHA256:
		cfg.ClientSecretsHasher = sha256Hasher{}
	}
	hash, err := cfg.GetSecretsHasher(ctx).Hash(ctx, []byte(clientSecret))
	if err != nil {
		tb.Fatal(err)
	}
	st := newStorageMemory()
	st.Clients[clientID] = &fosite.DefaultClient{ID: clientID, Secret: hash, GrantTypes: []string{"client_credentials"},
		Scopes: []string{"read", "write"}, Audience: []string{apiID}}
	var key any = k.priv
	if _, ok := k.priv.(ed25519.PrivateKey); ok {
		key = &josev3.JSONWebKey{Key: k.priv, Algorithm: "EdDSA", KeyID: k.key.ID()}
	}
	keyGetter := func(context.Context) (interface{}, error) { return key, nil }
	strategy := compose.NewOAuth2JWTStrategy(keyGetter, compose.NewOAuth2HMACStrategy(cfg), cfg)
	provider := compose.Compose(cfg, st, &compose.CommonStrategy{CoreStrategy: strategy, Signer: &fjwt.DefaultSigner{GetPrivateKey: keyGetter}},
		compose.OAuth2ClientCredentialsGrantFactory, compose.OAuth2TokenIntrospectionFactory, compose.OAuth2StatelessJWTIntrospectionFactory)
	return &fositeIssuer{provider: provider, strategy: strategy, kid: k.key.ID()}
}

func newJWTSession() *foauth2.JWTSession {
	return &foauth2.JWTSession{JWTClaims: &fjwt.JWTClaims{}, JWTHeader: &fjwt.Headers{}}
}

// ServeHTTP is the token endpoint as fosite's documentation writes it, with
// the session filled so that the token carries scopekit's claims and header.
// fosite's client-credentials handler decides scope (the client's Scopes)
// and audience (the client's Audience) before the handler grants them.
func (f *fositeIssuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess := newJWTSession()
	ar, err := f.provider.NewAccessRequest(ctx, r, sess)
	if err != nil {
		f.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	cid := ar.GetClient().GetID()
	sess.JWTClaims.Subject = cid + subjectSuffix
	sess.JWTClaims.Extra = map[string]interface{}{"client_id": cid, "azp": cid, "gty": grantTypeName}
	sess.JWTHeader.Extra = map[string]interface{}{"kid": f.kid, "typ": "at+jwt"}
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

// goOAuth2Claims is scopekit's claim set in golang-jwt's idiom, which
// go-oauth2 signs with.
type goOAuth2Claims struct {
	jwt.RegisteredClaims
	ClientID        string `json:"client_id"`
	AuthorizedParty string `json:"azp"`
	Scope           string `json:"scope,omitempty"`
	GrantType       string `json:"gty"`
}

// goOAuth2Generator is an oauth2.AccessGenerate producing scopekit's claim
// set and header. go-oauth2's own generates.JWTAccessGenerate signs only
// aud (the client ID) and exp and parses the PEM key on every request; this
// one parses nothing per request, the best a go-oauth2 user can write.
type goOAuth2Generator struct {
	kid    string
	method jwt.SigningMethod
	key    any
}

// Token signs the access token of a client-credentials request whose
// audience and scope the server's ClientScopeHandler has decided.
func (g *goOAuth2Generator) Token(_ context.Context, data *oauth2.GenerateBasic, _ bool) (string, string, error) {
	cid := data.Client.GetID()
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", "", err
	}
	now := data.TokenInfo.GetAccessCreateAt()
	claims := &goOAuth2Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuerURL,
			Subject:   cid + subjectSuffix,
			Audience:  jwt.ClaimStrings{data.Request.FormValue("audience")},
			ExpiresAt: jwt.NewNumericDate(now.Add(data.TokenInfo.GetAccessExpiresIn())),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        base64.RawURLEncoding.EncodeToString(jti[:]),
		},
		ClientID: cid, AuthorizedParty: cid, Scope: data.TokenInfo.GetScope(), GrantType: grantTypeName,
	}
	t := jwt.NewWithClaims(g.method, claims)
	t.Header["kid"] = g.kid
	t.Header["typ"] = "at+jwt"
	access, err := t.SignedString(g.key)
	return access, "", err
}

// goOAuth2Grants is what the go-oauth2 issuer lets each client request:
// audience to scopes, the same grant scopekit and fosite hold.
var goOAuth2Grants = map[string]map[string][]string{clientID: {apiID: {"read", "write"}}}

// goOAuth2Scope is go-oauth2's ClientScopeHandler: the requested audience
// must be granted to the client and every requested scope granted for it.
// go-oauth2 has no audience parameter of its own; this reads the form.
func goOAuth2Scope(tgr *oauth2.TokenGenerateRequest) (bool, error) {
	allowed, ok := goOAuth2Grants[tgr.ClientID][tgr.Request.FormValue("audience")]
	if !ok {
		return false, nil
	}
	for _, s := range strings.Fields(tgr.Scope) {
		if !slices.Contains(allowed, s) {
			return false, nil
		}
	}
	return true, nil
}

// goOAuth2Issuer is go-oauth2/oauth2 v4 with goOAuth2Generator, its memory
// token store (buntdb) and client store.
func goOAuth2Issuer(tb testing.TB, k *benchKey) http.Handler {
	method := map[string]jwt.SigningMethod{"RS256": jwt.SigningMethodRS256, "ES256": jwt.SigningMethodES256, "EdDSA": jwt.SigningMethodEdDSA}[k.alg]
	manager := manage.NewDefaultManager()
	manager.SetClientTokenCfg(&manage.Config{AccessTokenExp: tokenLifetime})
	manager.MustTokenStorage(store.NewMemoryTokenStore())
	clients := store.NewClientStore()
	if err := clients.Set(clientID, &models.Client{ID: clientID, Secret: clientSecret, Domain: "https://svc.example.com"}); err != nil {
		tb.Fatal(err)
	}
	manager.MapClientStorage(clients)
	manager.MapAccessGenerate(&goOAuth2Generator{kid: k.key.ID(), method: method, key: k.priv})
	srv := server.NewDefaultServer(manager)
	srv.SetClientInfoHandler(server.ClientBasicHandler)
	srv.SetClientScopeHandler(goOAuth2Scope)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := srv.HandleTokenRequest(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}
