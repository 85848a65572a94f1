package peers

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"

	josev3 "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	foauth2 "github.com/ory/fosite/handler/oauth2"
	fstorage "github.com/ory/fosite/storage"
	fjwt "github.com/ory/fosite/token/jwt"
	"golang.org/x/crypto/bcrypt"
)

// FositeHashing selects how fosite checks the client secret.
type FositeHashing int

const (
	// FositeAsShipped is fosite's default: bcrypt, cost 12.
	FositeAsShipped FositeHashing = iota
	// FositeBcrypt4 is bcrypt at its lowest cost, the cheapest fosite's
	// own hasher allows.
	FositeBcrypt4
	// FositeSHA256 is a ClientSecretsHasher comparing SHA-256 hashes in
	// constant time, as scopekit does: the configuration that measures
	// fosite's framework work rather than its secret hashing.
	FositeSHA256
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

// Fosite is ory/fosite composed for client credentials with JWT access
// tokens on its memory store, introspection enabled. It is an http.Handler
// serving the token endpoint.
type Fosite struct {
	// Provider is the composed provider.
	Provider fosite.OAuth2Provider
	// Strategy is its JWT access-token strategy.
	Strategy *foauth2.DefaultJWTStrategy
	kid      string
}

// NewFosite configures fosite with k and the secret hashing h.
func NewFosite(k *Key, h FositeHashing) (*Fosite, error) {
	ctx := context.Background()
	cfg := &fosite.Config{
		AccessTokenLifespan: TokenLifetime,
		GlobalSecret:        []byte("some-cool-secret-that-is-32bytes"),
		AccessTokenIssuer:   IssuerURL,
		// "scope" as a space-separated string, as RFC 9068 writes it,
		// instead of fosite's default "scp" array.
		JWTScopeClaimKey: fjwt.JWTScopeFieldString,
	}
	switch h {
	case FositeBcrypt4:
		cfg.HashCost = bcrypt.MinCost
	case FositeSHA256:
		cfg.ClientSecretsHasher = sha256Hasher{}
	}
	hash, err := cfg.GetSecretsHasher(ctx).Hash(ctx, []byte(ClientSecret))
	if err != nil {
		return nil, err
	}
	st := fstorage.NewMemoryStore()
	st.Clients[ClientID] = &fosite.DefaultClient{ID: ClientID, Secret: hash, GrantTypes: []string{"client_credentials"},
		Scopes: slices.Clone(Scopes), Audience: []string{APIID}}
	var key any = k.Priv
	if _, ok := k.Priv.(ed25519.PrivateKey); ok {
		key = &josev3.JSONWebKey{Key: k.Priv, Algorithm: "EdDSA", KeyID: k.Key.ID()}
	}
	keyGetter := func(context.Context) (interface{}, error) { return key, nil }
	strategy := compose.NewOAuth2JWTStrategy(keyGetter, compose.NewOAuth2HMACStrategy(cfg), cfg)
	provider := compose.Compose(cfg, st, &compose.CommonStrategy{CoreStrategy: strategy, Signer: &fjwt.DefaultSigner{GetPrivateKey: keyGetter}},
		compose.OAuth2ClientCredentialsGrantFactory, compose.OAuth2TokenIntrospectionFactory, compose.OAuth2StatelessJWTIntrospectionFactory)
	return &Fosite{Provider: provider, Strategy: strategy, kid: k.Key.ID()}, nil
}

// NewJWTSession is an empty session of fosite's JWT strategy.
func NewJWTSession() *foauth2.JWTSession {
	return &foauth2.JWTSession{JWTClaims: &fjwt.JWTClaims{}, JWTHeader: &fjwt.Headers{}}
}

// ServeHTTP is the token endpoint as fosite's documentation writes it, with
// the session filled so that the token carries scopekit's claims and header.
// fosite's client-credentials handler decides scope (the client's Scopes)
// and audience (the client's Audience) before the handler grants them.
func (f *Fosite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess := NewJWTSession()
	ar, err := f.Provider.NewAccessRequest(ctx, r, sess)
	if err != nil {
		f.Provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	cid := ar.GetClient().GetID()
	sess.JWTClaims.Subject = cid + SubjectSuffix
	sess.JWTClaims.Extra = map[string]interface{}{"client_id": cid, "azp": cid, "gty": GrantTypeName}
	sess.JWTHeader.Extra = map[string]interface{}{"kid": f.kid, "typ": "at+jwt"}
	for _, s := range ar.GetRequestedScopes() {
		ar.GrantScope(s)
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}
	resp, err := f.Provider.NewAccessResponse(ctx, ar)
	if err != nil {
		f.Provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	f.Provider.WriteAccessResponse(ctx, w, ar, resp)
}
