package peers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Zitadel is zitadel/oidc v3's OpenID provider (package op) with
// zitadelStorage, a storage serving the client-credentials grant with JWT
// access tokens: its whole handler (the token endpoint at /oauth/token).
//
// zitadel's client-credentials exchange passes the storage the client and
// the scopes but not the request's audience, so the handler hands the
// storage the form's "audience" through the request's context; the
// storage refuses any audience or scope outside the client's grant.
func Zitadel(k *Key) (http.Handler, error) {
	st := &zitadelStorage{key: k, tokens: map[string]time.Time{}}
	st.secretHash = sha256.Sum256([]byte(ClientSecret))
	cfg := &op.Config{CryptoKey: sha256.Sum256([]byte("some-cool-secret-that-is-32bytes"))}
	p, err := op.NewProvider(cfg, st, op.StaticIssuer(IssuerURL))
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		p.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), audienceKey{}, r.PostForm.Get("audience"))))
	}), nil
}

// audienceKey is the context key of the requested audience.
type audienceKey struct{}

// errNotServed answers every storage operation of a flow other than client
// credentials, which this provider does not serve.
var errNotServed = errors.New("zitadel peer: only the client-credentials grant is served")

// zitadelStorage is an op.Storage and op.ClientCredentialsStorage holding
// the one client, its grant and the signing key, and the issued access
// tokens' IDs in memory, as zitadel's example storage does.
type zitadelStorage struct {
	key        *Key
	secretHash [sha256.Size]byte

	mu     sync.Mutex
	tokens map[string]time.Time // access token ID → expiry
}

// authenticate checks the client's credentials in constant time.
func (s *zitadelStorage) authenticate(clientID, secret string) (op.Client, error) {
	h := sha256.Sum256([]byte(secret))
	if clientID != ClientID || subtle.ConstantTimeCompare(h[:], s.secretHash[:]) != 1 {
		return nil, errors.New("invalid client credentials")
	}
	return zitadelClient{}, nil
}

// ClientCredentials authenticates the client (op.ClientCredentialsStorage).
func (s *zitadelStorage) ClientCredentials(_ context.Context, clientID, clientSecret string) (op.Client, error) {
	return s.authenticate(clientID, clientSecret)
}

// ClientCredentialsTokenRequest decides the grant: the requested audience
// must be the API and every scope granted on it.
func (s *zitadelStorage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	aud, _ := ctx.Value(audienceKey{}).(string)
	if aud != APIID {
		return nil, oidc.ErrInvalidRequest().WithDescription("audience not granted")
	}
	for _, sc := range scopes {
		if !slices.Contains(Scopes, sc) {
			return nil, oidc.ErrInvalidScope()
		}
	}
	return &zitadelTokenRequest{clientID: clientID, audience: []string{aud}, scopes: scopes}, nil
}

// GetPrivateClaimsFromRequest adds azp, gty and scope (as a space-separated
// string) to the claims zitadel signs (op.CanGetPrivateClaimsFromRequest).
func (s *zitadelStorage) GetPrivateClaimsFromRequest(_ context.Context, req op.TokenRequest, scopes []string) (map[string]any, error) {
	cid := strings.TrimSuffix(req.GetSubject(), SubjectSuffix)
	return map[string]any{"azp": cid, "gty": GrantTypeName, "scope": strings.Join(scopes, " ")}, nil
}

// CreateAccessToken records the token's ID and expiry.
func (s *zitadelStorage) CreateAccessToken(_ context.Context, _ op.TokenRequest) (string, time.Time, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", time.Time{}, err
	}
	id := base64.RawURLEncoding.EncodeToString(b[:])
	exp := time.Now().Add(TokenLifetime)
	s.mu.Lock()
	s.tokens[id] = exp
	s.mu.Unlock()
	return id, exp, nil
}

// SigningKey is the shared key.
func (s *zitadelStorage) SigningKey(context.Context) (op.SigningKey, error) {
	return zitadelKey{s.key}, nil
}

// SignatureAlgorithms is the shared key's algorithm.
func (s *zitadelStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.SignatureAlgorithm(s.key.Alg)}, nil
}

// KeySet is the shared key's public half.
func (s *zitadelStorage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{zitadelPublicKey{s.key}}, nil
}

// GetClientByClientID returns the one client.
func (s *zitadelStorage) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	if clientID != ClientID {
		return nil, errors.New("unknown client")
	}
	return zitadelClient{}, nil
}

// AuthorizeClientIDSecret authenticates the client.
func (s *zitadelStorage) AuthorizeClientIDSecret(_ context.Context, clientID, clientSecret string) error {
	_, err := s.authenticate(clientID, clientSecret)
	return err
}

// Health reports the storage ready.
func (s *zitadelStorage) Health(context.Context) error { return nil }

// The operations of other flows answer errNotServed.

func (s *zitadelStorage) CreateAuthRequest(context.Context, *oidc.AuthRequest, string) (op.AuthRequest, error) {
	return nil, errNotServed
}
func (s *zitadelStorage) AuthRequestByID(context.Context, string) (op.AuthRequest, error) {
	return nil, errNotServed
}
func (s *zitadelStorage) AuthRequestByCode(context.Context, string) (op.AuthRequest, error) {
	return nil, errNotServed
}
func (s *zitadelStorage) SaveAuthCode(context.Context, string, string) error { return errNotServed }
func (s *zitadelStorage) DeleteAuthRequest(context.Context, string) error    { return errNotServed }
func (s *zitadelStorage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNotServed
}
func (s *zitadelStorage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errNotServed
}
func (s *zitadelStorage) TerminateSession(context.Context, string, string) error { return errNotServed }
func (s *zitadelStorage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return oidc.ErrServerError().WithParent(errNotServed)
}
func (s *zitadelStorage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}
func (s *zitadelStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil // deprecated by zitadel: an empty implementation
}
func (s *zitadelStorage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return errNotServed
}
func (s *zitadelStorage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errNotServed
}
func (s *zitadelStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, errNotServed
}
func (s *zitadelStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotServed
}
func (s *zitadelStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errNotServed
}

// zitadelTokenRequest is the decided client-credentials grant.
type zitadelTokenRequest struct {
	clientID         string
	audience, scopes []string
}

func (r *zitadelTokenRequest) GetSubject() string    { return r.clientID + SubjectSuffix }
func (r *zitadelTokenRequest) GetAudience() []string { return r.audience }
func (r *zitadelTokenRequest) GetScopes() []string   { return r.scopes }

// zitadelKey is the shared private key as op.SigningKey.
type zitadelKey struct{ k *Key }

func (k zitadelKey) SignatureAlgorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.k.Alg)
}
func (k zitadelKey) Key() any   { return k.k.Priv }
func (k zitadelKey) ID() string { return k.k.Key.ID() }

// zitadelPublicKey is the shared public key as op.Key.
type zitadelPublicKey struct{ k *Key }

func (k zitadelPublicKey) ID() string { return k.k.Key.ID() }
func (k zitadelPublicKey) Algorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.k.Alg)
}
func (k zitadelPublicKey) Use() string { return "sig" }
func (k zitadelPublicKey) Key() any    { return k.k.Pub }

// zitadelClient is the one confidential client, allowed the
// client-credentials grant with JWT access tokens.
type zitadelClient struct{}

func (zitadelClient) GetID() string                       { return ClientID }
func (zitadelClient) RedirectURIs() []string              { return nil }
func (zitadelClient) PostLogoutRedirectURIs() []string    { return nil }
func (zitadelClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (zitadelClient) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (zitadelClient) ResponseTypes() []oidc.ResponseType  { return nil }
func (zitadelClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials}
}
func (zitadelClient) LoginURL(string) string               { return "" }
func (zitadelClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (zitadelClient) IDTokenLifetime() time.Duration       { return TokenLifetime }
func (zitadelClient) DevMode() bool                        { return false }
func (zitadelClient) IsScopeAllowed(s string) bool         { return slices.Contains(Scopes, s) }
func (zitadelClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (zitadelClient) ClockSkew() time.Duration             { return 0 }
func (zitadelClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (zitadelClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
