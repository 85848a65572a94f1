package peers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/go-oauth2/oauth2/v4/store"
	"github.com/golang-jwt/jwt/v5"
)

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
			Issuer:    IssuerURL,
			Subject:   cid + SubjectSuffix,
			Audience:  jwt.ClaimStrings{data.Request.FormValue("audience")},
			ExpiresAt: jwt.NewNumericDate(now.Add(data.TokenInfo.GetAccessExpiresIn())),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        base64.RawURLEncoding.EncodeToString(jti[:]),
		},
		ClientID: cid, AuthorizedParty: cid, Scope: data.TokenInfo.GetScope(), GrantType: GrantTypeName,
	}
	t := jwt.NewWithClaims(g.method, claims)
	t.Header["kid"] = g.kid
	t.Header["typ"] = "at+jwt"
	access, err := t.SignedString(g.key)
	return access, "", err
}

// goOAuth2Scope is go-oauth2's ClientScopeHandler: the requested audience
// must be the API granted to the client and every requested scope granted
// on it. go-oauth2 has no audience parameter of its own; this reads the
// form.
func goOAuth2Scope(tgr *oauth2.TokenGenerateRequest) (bool, error) {
	if tgr.ClientID != ClientID || tgr.Request.FormValue("audience") != APIID {
		return false, nil
	}
	for _, s := range strings.Fields(tgr.Scope) {
		if !slices.Contains(Scopes, s) {
			return false, nil
		}
	}
	return true, nil
}

// GoOAuth2 is go-oauth2/oauth2 v4 with goOAuth2Generator, its memory token
// store (buntdb) and client store: the token endpoint as an http.Handler.
func GoOAuth2(k *Key) (http.Handler, error) {
	method, ok := map[string]jwt.SigningMethod{"RS256": jwt.SigningMethodRS256, "ES256": jwt.SigningMethodES256, "EdDSA": jwt.SigningMethodEdDSA}[k.Alg]
	if !ok {
		return nil, fmt.Errorf("go-oauth2: no signing method for %s", k.Alg)
	}
	manager := manage.NewDefaultManager()
	manager.SetClientTokenCfg(&manage.Config{AccessTokenExp: TokenLifetime})
	tokens, err := store.NewMemoryTokenStore()
	if err != nil {
		return nil, err
	}
	manager.MapTokenStorage(tokens)
	clients := store.NewClientStore()
	if err := clients.Set(ClientID, &models.Client{ID: ClientID, Secret: ClientSecret, Domain: "https://svc.example.com"}); err != nil {
		return nil, err
	}
	manager.MapClientStorage(clients)
	manager.MapAccessGenerate(&goOAuth2Generator{kid: k.Key.ID(), method: method, key: k.Priv})
	srv := server.NewDefaultServer(manager)
	srv.SetClientInfoHandler(server.ClientBasicHandler)
	srv.SetClientScopeHandler(goOAuth2Scope)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := srv.HandleTokenRequest(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}), nil
}
