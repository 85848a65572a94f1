package resource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/token"
)

// RemoteConfig configures an Authorizer (NewRemote) for tokens of another issuer, the Go
// counterpart of express-oauth2-jwt-bearer.
type RemoteConfig struct {
	// Issuer is the issuer identifier; its discovery document is read from
	// Issuer + "/.well-known/openid-configuration", falling back to RFC 8414
	// "/.well-known/oauth-authorization-server", and must name exactly this
	// issuer. Required: an https URL, or http on a loopback host; the same
	// rule applies to the discovered jwks_uri.
	Issuer string
	// Audience is the API identifier tokens must carry in "aud". Required.
	Audience string
	// Algorithms is the allow-list of signing algorithms. Empty means RS256.
	Algorithms []string
	// HTTPClient fetches discovery and keys. Nil means a client with a
	// 10-second timeout.
	HTTPClient *http.Client
	// Leeway is the accepted clock skew. Zero means 30 seconds.
	Leeway time.Duration
	// Realm is the realm of WWW-Authenticate challenges. Empty means Audience.
	Realm string
	// VerifiedTokenCache bounds how many verified tokens are remembered
	// until their exp (or until their kid leaves the issuer's JWKS). Zero
	// means 10000; negative disables the cache.
	VerifiedTokenCache int
	// Now is the clock for token times and JWKS refresh. Nil means time.Now.
	Now func() time.Time
	// Lazy makes NewRemote do no I/O: the discovery document and the JWKS
	// are fetched by the first request that needs them, so an API can start
	// while its issuer is down. Until the issuer answers, every bearer
	// request fails closed with 503 temporarily_unavailable and Retry-After
	// (the token can be neither accepted nor refused: it is the API's
	// outage, not the client's bad token), retried at most every
	// five seconds; then the authorizer works as an eager one. A discovery
	// document that answers but is wrong (another issuer, a jwks_uri that
	// is not https) fails the same way, request after request, where an
	// eager NewRemote reports it at start. False (the default) makes
	// NewRemote fetch the discovery document and fail when it cannot.
	Lazy bool
	// Introspection, when set, makes the authorizer accept the issuer's
	// opaque access tokens (OpaquePrefix) by introspection (RFC 7662),
	// cached for a bounded time (IntrospectionConfig.CacheFor). Nil
	// refuses opaque tokens.
	Introspection *IntrospectionConfig
}

// lazyRetry is the wait between fetches of a lazy authorizer's discovery
// and JWKS while they have never succeeded: the Retry-After of its 503s.
const lazyRetry = 5 * time.Second

// maxDiscoveryBytes bounds the discovery document read from a remote issuer.
const maxDiscoveryBytes = 1 << 20

// NewRemote reads the issuer's discovery document, checks that it
// names the same issuer (RFC 8414 §3.3) and an https jwks_uri, and returns an
// Authorizer that verifies JWT access tokens (typ at+jwt, RFC 9068 §4)
// against the issuer's JWKS (cached; one fetch at a time, at most once a
// minute and backing off while the JWKS fails; known kids never wait for a
// refetch, see token.RemoteKeys). Revocations of a remote issuer are not visible:
// tokens stay valid until they expire. With cfg.Lazy it does no I/O and
// discovers the issuer on the first request instead (RemoteConfig.Lazy).
func NewRemote(ctx context.Context, cfg RemoteConfig) (*Authorizer, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("resource: RemoteConfig needs Issuer and Audience")
	}
	if err := oauth.ValidIssuer(cfg.Issuer); err != nil {
		return nil, fmt.Errorf("resource: RemoteConfig.Issuer: %w", err)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = []string{token.RS256}
	}
	for _, alg := range cfg.Algorithms {
		if !token.Supported(alg) {
			return nil, fmt.Errorf("resource: algorithm %q is not allowed", alg)
		}
	}
	if cfg.Realm == "" {
		cfg.Realm = cfg.Audience
	}
	keys := token.NewRemoteKeys("", cfg.HTTPClient)
	var introspectionEndpoint string
	if cfg.Lazy {
		client, issuer := cfg.HTTPClient, cfg.Issuer
		keys.Discover = func(ctx context.Context) (string, error) { return discoverJWKS(ctx, client, issuer) }
		keys.InitialRetry = lazyRetry
	} else {
		meta, err := discover(ctx, cfg.HTTPClient, cfg.Issuer)
		if err != nil {
			return nil, err
		}
		keys.URL, introspectionEndpoint = meta.JWKSURI, meta.IntrospectionEndpoint
	}
	if cfg.VerifiedTokenCache == 0 {
		cfg.VerifiedTokenCache = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	keys.Now = cfg.Now
	var opaque OpaqueResolver
	if cfg.Introspection != nil {
		in, err := newIntrospector(*cfg.Introspection, cfg.Issuer, cfg.HTTPClient, cfg.Now, introspectionEndpoint)
		if err != nil {
			return nil, err
		}
		opaque = in.resolve
	}
	return New(Config{
		Opaque: opaque,
		Realm:  cfg.Realm,
		Cache:  NewCache(cfg.VerifiedTokenCache),
		Verifier: token.Verifier{
			Issuer:     cfg.Issuer,
			Audience:   cfg.Audience,
			Algorithms: cfg.Algorithms,
			Keys:       keys,
			Now:        cfg.Now,
			// RFC 9068 §4, RFC 8725 §3.11: only JWT access tokens, never an
			// ID token or another JWT the issuer signs with the same keys.
			Types:  []string{token.TypeAccessToken},
			Leeway: cfg.Leeway,
		},
	}), nil
}

// issuerMeta is what an Authorizer reads of the issuer's metadata.
type issuerMeta struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
}

// discoverJWKS returns the jwks_uri of the issuer's metadata.
func discoverJWKS(ctx context.Context, client *http.Client, issuer string) (string, error) {
	meta, err := discover(ctx, client, issuer)
	return meta.JWKSURI, err
}

// discover reads the issuer's metadata and checks that it names the issuer
// and an https jwks_uri (and introspection_endpoint, when it names one).
func discover(ctx context.Context, client *http.Client, issuer string) (issuerMeta, error) {
	base := strings.TrimSuffix(issuer, "/")
	var lastErr error
	for _, u := range []string{base + "/.well-known/openid-configuration", base + "/.well-known/oauth-authorization-server"} {
		var meta issuerMeta
		if err := getJSON(ctx, client, u, &meta); err != nil {
			lastErr = err
			continue
		}
		if meta.Issuer != issuer {
			return issuerMeta{}, fmt.Errorf("resource: discovery at %s names issuer %q, want %q", u, meta.Issuer, issuer)
		}
		if _, err := oauth.SecureURL(meta.JWKSURI); err != nil {
			return issuerMeta{}, fmt.Errorf("resource: discovery at %s: jwks_uri %w", u, err)
		}
		if meta.IntrospectionEndpoint != "" {
			if _, err := oauth.SecureURL(meta.IntrospectionEndpoint); err != nil {
				return issuerMeta{}, fmt.Errorf("resource: discovery at %s: introspection_endpoint %w", u, err)
			}
		}
		return meta, nil
	}
	return issuerMeta{}, fmt.Errorf("resource: issuer discovery failed: %w", lastErr)
}

func getJSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBytes+1))
	if err != nil {
		return err
	}
	if len(body) > maxDiscoveryBytes {
		return fmt.Errorf("GET %s: document too large", url)
	}
	return json.Unmarshal(body, v)
}
