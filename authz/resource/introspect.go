package resource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/scopekit/scopekit/token"
)

// IntrospectionConfig lets a remote Authorizer accept the issuer's opaque
// access tokens by asking the issuer's introspection endpoint (RFC 7662)
// with the API's own client credentials. The scopekit issuer answers such
// a client about the tokens of an audience the client lists in its
// IntrospectAudiences.
type IntrospectionConfig struct {
	// ClientID and ClientSecret authenticate the API to the introspection
	// endpoint (client_secret_basic, RFC 7662 §2.1). Required.
	ClientID, ClientSecret string
	// CacheFor is how long an active answer is reused, never past the
	// token's exp: a token revoked at the issuer is still accepted for at
	// most this long. Zero means 30 seconds; negative asks every time.
	CacheFor time.Duration
	// MaxEntries bounds the cache. Zero means 10000.
	MaxEntries int
}

// defaultIntrospectionCache is IntrospectionConfig.CacheFor when zero.
const defaultIntrospectionCache = 30 * time.Second

// maxIntrospectionBytes bounds an introspection response.
const maxIntrospectionBytes = 64 << 10

// introspector resolves opaque tokens at a remote issuer's introspection
// endpoint and remembers active answers for a bounded time.
type introspector struct {
	cfg      IntrospectionConfig
	issuer   string
	client   *http.Client
	now      func() time.Time
	discover func(ctx context.Context) (issuerMeta, error)

	mu       sync.Mutex
	endpoint string
	entries  map[string]introspected // by token.Hash of the token
}

type introspected struct {
	claims *token.Claims
	until  time.Time
}

func newIntrospector(cfg IntrospectionConfig, issuer string, client *http.Client, now func() time.Time, endpoint string) (*introspector, error) {
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("resource: IntrospectionConfig needs ClientID and ClientSecret")
	}
	if cfg.CacheFor == 0 {
		cfg.CacheFor = defaultIntrospectionCache
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 10000
	}
	return &introspector{
		cfg: cfg, issuer: issuer, client: client, now: now, endpoint: endpoint,
		discover: func(ctx context.Context) (issuerMeta, error) { return discover(ctx, client, issuer) },
		entries:  map[string]introspected{},
	}, nil
}

// resolve is the introspector's OpaqueResolver.
func (in *introspector) resolve(ctx context.Context, raw string) (*token.Claims, error) {
	key := token.Hash(raw)
	now := in.now()
	in.mu.Lock()
	e, ok := in.entries[key]
	endpoint := in.endpoint
	in.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.claims, nil
	}
	if endpoint == "" {
		meta, err := in.discover(ctx)
		if err != nil {
			return nil, err
		}
		if endpoint = meta.IntrospectionEndpoint; endpoint == "" {
			return nil, errors.New("resource: the issuer names no introspection_endpoint")
		}
		in.mu.Lock()
		in.endpoint = endpoint
		in.mu.Unlock()
	}
	claims, err := in.ask(ctx, endpoint, raw)
	if err != nil {
		return nil, err
	}
	until := now.Add(in.cfg.CacheFor)
	if claims.ExpiresAt.Before(until) {
		until = claims.ExpiresAt
	}
	if now.Before(until) {
		in.remember(key, introspected{claims: claims, until: until}, now)
	}
	return claims, nil
}

// remember stores an answer, first dropping the expired ones when the cache
// is full, then any one.
func (in *introspector) remember(key string, e introspected, now time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.entries) >= in.cfg.MaxEntries {
		for k, v := range in.entries {
			if !now.Before(v.until) {
				delete(in.entries, k)
			}
		}
		for k := range in.entries {
			if len(in.entries) < in.cfg.MaxEntries {
				break
			}
			delete(in.entries, k)
		}
	}
	in.entries[key] = e
}

// ask posts the token to the introspection endpoint (RFC 7662 §2.1) and
// reads its answer (§2.2): an inactive token, or one of another issuer, is
// ErrInactive.
func (in *introspector) ask(ctx context.Context, endpoint, raw string) (*token.Claims, error) {
	form := url.Values{"token": {raw}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 §2.3.1: the credentials are form-encoded before Basic.
	req.SetBasicAuth(url.QueryEscape(in.cfg.ClientID), url.QueryEscape(in.cfg.ClientSecret))
	resp, err := in.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIntrospectionBytes+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || len(body) > maxIntrospectionBytes {
		return nil, fmt.Errorf("resource: introspection answered status %d", resp.StatusCode)
	}
	return introspectionClaims(body, in.issuer)
}

// introspectionClaims reads an RFC 7662 §2.2 answer into the claims a
// Principal is built from; Raw holds its members but "active".
func introspectionClaims(body []byte, issuer string) (*token.Claims, error) {
	var r struct {
		Active    bool            `json:"active"`
		Scope     string          `json:"scope"`
		ClientID  string          `json:"client_id"`
		Subject   string          `json:"sub"`
		Audience  json.RawMessage `json:"aud"`
		Issuer    string          `json:"iss"`
		ExpiresAt int64           `json:"exp"`
		IssuedAt  int64           `json:"iat"`
		JTI       string          `json:"jti"`
		TokenType string          `json:"token_type"`
	}
	var raw map[string]any
	if json.Unmarshal(body, &r) != nil || json.Unmarshal(body, &raw) != nil {
		return nil, errors.New("resource: the introspection answer is not a JSON object")
	}
	if !r.Active || r.Issuer != issuer || r.ExpiresAt <= 0 || r.TokenType != "" && r.TokenType != "Bearer" {
		return nil, ErrInactive
	}
	aud, err := audienceOf(r.Audience)
	if err != nil {
		return nil, err
	}
	delete(raw, "active")
	c := &token.Claims{
		Issuer: r.Issuer, Subject: r.Subject, ClientID: r.ClientID, Scope: r.Scope, JTI: r.JTI, Audience: aud,
		ExpiresAt: time.Unix(r.ExpiresAt, 0), Raw: raw,
	}
	if r.IssuedAt > 0 {
		c.IssuedAt = time.Unix(r.IssuedAt, 0)
	}
	return c, nil
}

// audienceOf reads "aud": a string or an array of strings.
func audienceOf(m json.RawMessage) ([]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	var one string
	if json.Unmarshal(m, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(m, &many); err != nil {
		return nil, errors.New("resource: the introspection answer has a malformed aud")
	}
	return many, nil
}
