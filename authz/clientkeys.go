package authz

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/token"
)

// Bounds of the jwks_uri cache.
const (
	// clientJWKSMaxAge bounds how long a fetched client JWK Set is used
	// before it is refetched (a shorter Cache-Control max-age wins, down to
	// the one-minute minimum interval of token.RemoteKeys).
	clientJWKSMaxAge = 10 * time.Minute
	// maxCachedClientJWKS bounds the jwks_uri sets kept at once.
	maxCachedClientJWKS = 1024
)

// assertionAuth is private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9):
// a JWT signed with a key of the client's JWK Set, inline or at its
// jwks_uri, whose jti is accepted once.
type assertionAuth struct{ s *Server }

// Authenticate implements ClientAuthenticator.
func (a assertionAuth) Authenticate(ctx context.Context, r *ClientAuthRequest) error {
	c := r.Client
	if c.Public || r.Method != oauth.AuthPrivateKeyJWT || r.Assertion == "" {
		return errClientAuth(r.Method)
	}
	keys, err := a.s.assertionKeys(c.JWKS, c.JWKSURI)
	if err != nil {
		return oauth.ErrInvalidClient.WithDescription("the client has no usable keys").WithCause(err)
	}
	e := a.s.endpoints
	v := &token.AssertionVerifier{
		ClientID: c.ID,
		// draft-ietf-oauth-rfc7523bis: the issuer identifier; the token
		// endpoint URL is accepted for compatibility.
		Audiences: []string{a.s.cfg.Issuer, e.url(e.token)},
		Keys:      keys,
		Leeway:    a.s.cfg.Leeway,
		Now:       a.s.cfg.Now,
	}
	claims, err := v.Verify(ctx, r.Assertion)
	if err != nil {
		if errors.Is(err, token.ErrInvalid) {
			return oauth.ErrInvalidClient.WithDescription("invalid client_assertion").WithCause(err)
		}
		// The client's jwks_uri failed: its credentials cannot be checked.
		return oauth.ErrInvalidClient.WithDescription("the client's keys could not be fetched").WithCause(err)
	}
	// RFC 7523 §3 item 7: the jti is used once, remembered as long as the
	// assertion could still be accepted.
	fresh, err := a.s.store.UseOnce(ctx, "client_assertion:"+c.ID+":"+token.Hash(claims.JTI),
		claims.ExpiresAt.Add(token.LeewayOf(a.s.cfg.Leeway)))
	if err != nil {
		return err
	}
	if !fresh {
		return oauth.ErrInvalidClient.WithDescription("client_assertion replayed")
	}
	return nil
}

// staticKeys are a client's inline JWK Set.
type staticKeys []jose.JSONWebKey

// AssertionKeys implements token.AssertionKeys.
func (k staticKeys) AssertionKeys(_ context.Context, kid string) ([]jose.JSONWebKey, error) {
	if kid == "" {
		return k, nil
	}
	for _, key := range k {
		if key.KeyID == kid {
			return []jose.JSONWebKey{key}, nil
		}
	}
	return nil, token.ErrUnknownKey
}

// assertionKeys returns the key source of a client's inline set or
// jwks_uri (validated when the client was written; checked again here).
func (s *Server) assertionKeys(jwks []byte, uri string) (token.AssertionKeys, error) {
	switch {
	case len(jwks) > 0:
		keys, err := token.ParsePublicJWKS(jwks)
		if err != nil {
			return nil, err
		}
		return staticKeys(keys), nil
	case uri != "":
		if err := checkJWKSURI(uri); err != nil {
			return nil, err
		}
		return s.clientKeys.get(uri), nil
	}
	return nil, errors.New("authz: neither jwks nor jwks_uri")
}

// checkJWKSURI requires an absolute https URL without user info or
// fragment, of bounded length.
func checkJWKSURI(uri string) error {
	u, err := url.Parse(uri)
	if err != nil || len(uri) > maxJWKSURIBytes || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("authz: jwks_uri must be an absolute https URL without user info or fragment, of at most 2 KiB")
	}
	return nil
}

const maxJWKSURIBytes = 2 << 10

// remoteClientKeys caches the JWK Sets of jwks_uri clients, one
// token.RemoteKeys per URL: one fetch at a time per URL, refetched when
// older than clientJWKSMaxAge, and on an unknown kid at most once a minute,
// each document at most token.MaxPublicJWKSBytes. At most
// maxCachedClientJWKS URLs are kept; a new one beyond that evicts one.
type remoteClientKeys struct {
	client *http.Client
	now    func() time.Time
	mu     sync.Mutex
	sets   map[string]*token.RemoteKeys
}

func newRemoteClientKeys(client *http.Client, now func() time.Time) *remoteClientKeys {
	if client == nil {
		client = &http.Client{
			Timeout: 10 * time.Second,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if req.URL.Scheme != "https" || len(via) >= 3 {
					return errors.New("authz: jwks_uri redirects to a non-https URL or too often")
				}
				return nil
			},
		}
	}
	return &remoteClientKeys{client: client, now: now, sets: map[string]*token.RemoteKeys{}}
}

func (r *remoteClientKeys) get(uri string) *token.RemoteKeys {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := r.sets[uri]; ok {
		return k
	}
	if len(r.sets) >= maxCachedClientJWKS {
		for old := range r.sets {
			delete(r.sets, old)
			break
		}
	}
	k := &token.RemoteKeys{URL: uri, Client: r.client, MaxAge: clientJWKSMaxAge, MaxBytes: token.MaxPublicJWKSBytes, Now: r.now}
	r.sets[uri] = k
	return k
}
