package token

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxJWKSBytes bounds a fetched JWKS document.
const maxJWKSBytes = 1 << 20

// RemoteKeys is a KeySource over another issuer's JWKS, fetched over HTTP
// and cached. At most one fetch runs at a time and concurrent lookups share
// it. Fetches are at least MinRefresh apart, after a failure too, and the
// wait doubles with each consecutive failure up to MaxBackoff, so neither a
// flood of tokens with made-up kids nor a failing or slow JWKS makes it
// hammer the issuer. A stale set keeps serving the kids it knows while one
// refetch runs in the background; the last good set keeps serving while the
// JWKS fails. Keys without "alg" are ignored (the algorithm is taken from
// the key, never from the token).
type RemoteKeys struct {
	// URL is the jwks_uri. Empty means Discover finds it.
	URL string
	// Discover, when URL is empty, finds the jwks_uri (an issuer's
	// discovery document) inside the first fetch: concurrent lookups share
	// it, and a failure waits as a failed fetch does. The URL found is kept.
	Discover func(ctx context.Context) (string, error)
	// InitialRetry, when positive, is the wait after a failed fetch while
	// no set was ever fetched, instead of MinRefresh doubled per failure:
	// an authorizer started before its issuer (resource.RemoteConfig.Lazy)
	// works soon after the issuer does.
	InitialRetry time.Duration
	// Client fetches the JWKS. Nil means a client with a 10-second timeout.
	Client *http.Client
	// MinRefresh is the least time between two fetches. Zero means 1 minute.
	MinRefresh time.Duration
	// MaxBackoff caps the time between fetches after consecutive failures
	// (MinRefresh, doubled per failure). Zero means 10 minutes; it is never
	// below MinRefresh.
	MaxBackoff time.Duration
	// MaxAge is how long a fetched set is trusted before a lookup refetches
	// it (in the background: known kids keep verifying meanwhile); a
	// Cache-Control max-age of the response shortens it, down to MinRefresh
	// at least. A kid that is gone from the refetched set stops verifying.
	// Zero means 1 hour.
	MaxAge time.Duration
	// MaxBytes bounds the fetched document; a larger one is a failed
	// fetch. Zero means 1 MiB.
	MaxBytes int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	url      string // the jwks_uri Discover found
	keys     map[string]jose.JSONWebKey
	expires  time.Time // the set is stale from then on
	next     time.Time // no fetch starts before then
	failures int       // consecutive failed fetches
	lastErr  error     // the last fetch's error, nil after a success
	inflight *fetchCall
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// fetchTimeout bounds one JWKS fetch, whatever the client's own timeout.
const fetchTimeout = time.Minute

// NewRemoteKeys returns a RemoteKeys for url with the default intervals.
func NewRemoteKeys(url string, client *http.Client) *RemoteKeys {
	return &RemoteKeys{URL: url, Client: client}
}

func (r *RemoteKeys) minRefresh() time.Duration {
	if r.MinRefresh <= 0 {
		return time.Minute
	}
	return r.MinRefresh
}

// backoff is the wait after the current run of failures. r.mu is held.
func (r *RemoteKeys) backoff() time.Duration {
	if r.keys == nil && r.InitialRetry > 0 {
		return r.InitialRetry
	}
	limit := r.MaxBackoff
	if limit <= 0 {
		limit = 10 * time.Minute
	}
	limit = max(limit, r.minRefresh())
	d := r.minRefresh()
	for i := 1; i < r.failures && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

func (r *RemoteKeys) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// VerificationKey implements KeySource. A known kid is answered from the
// cache at once, even from a stale set (whose refetch then starts in the
// background). An unknown kid waits for the running fetch, or starts one
// when the interval allows, and is ErrUnknownKey otherwise; while no set was
// ever fetched, it is the last fetch's error. A failed fetch (or discovery)
// is an error wrapping ErrKeysUnavailable, never ErrInvalid.
func (r *RemoteKeys) VerificationKey(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	r.mu.Lock()
	if k, ok := r.keys[kid]; ok {
		if !r.now().Before(r.expires) {
			r.startLocked()
		}
		r.mu.Unlock()
		return k, nil
	}
	call := r.startLocked()
	if call == nil {
		err := r.lastErr
		if r.keys != nil || err == nil {
			err = ErrUnknownKey
		}
		r.mu.Unlock()
		return jose.JSONWebKey{}, err
	}
	r.mu.Unlock()
	select {
	case <-call.done:
	case <-ctx.Done():
		return jose.JSONWebKey{}, ctx.Err()
	}
	r.mu.Lock()
	k, ok := r.keys[kid]
	r.mu.Unlock()
	switch {
	case ok:
		return k, nil
	case call.err != nil:
		return jose.JSONWebKey{}, call.err
	default:
		return jose.JSONWebKey{}, ErrUnknownKey
	}
}

// AssertionKeys implements AssertionKeys: the key of kid as
// VerificationKey finds it, or, for an empty kid, every key of the cached
// set (waiting for the first fetch when none was made; a stale set is
// answered while its refetch runs in the background).
func (r *RemoteKeys) AssertionKeys(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	if kid != "" {
		k, err := r.VerificationKey(ctx, kid)
		if err != nil {
			return nil, err
		}
		return []jose.JSONWebKey{k}, nil
	}
	r.mu.Lock()
	if r.keys != nil {
		if !r.now().Before(r.expires) {
			r.startLocked()
		}
		keys := r.valuesLocked()
		r.mu.Unlock()
		return keys, nil
	}
	call := r.startLocked()
	if call == nil {
		err := r.lastErr
		r.mu.Unlock()
		if err == nil {
			err = ErrUnknownKey
		}
		return nil, err
	}
	r.mu.Unlock()
	select {
	case <-call.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if call.err != nil {
		return nil, call.err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.valuesLocked(), nil
}

// valuesLocked copies the cached keys. r.mu is held.
func (r *RemoteKeys) valuesLocked() []jose.JSONWebKey {
	keys := make([]jose.JSONWebKey, 0, len(r.keys))
	for _, k := range r.keys {
		keys = append(keys, k)
	}
	return keys
}

// startLocked returns the running fetch, or starts one in the background
// when the interval allows; nil when none may start yet. r.mu is held.
func (r *RemoteKeys) startLocked() *fetchCall {
	if r.inflight != nil {
		return r.inflight
	}
	if r.now().Before(r.next) {
		return nil
	}
	call := &fetchCall{done: make(chan struct{})}
	r.inflight = call
	go r.run(call)
	return call
}

// run performs one fetch, detached from any caller's context (callers stop
// waiting on their own ctx), and records its outcome: a new set and the
// plain interval, or the error and the backed-off interval with the last
// good set kept.
func (r *RemoteKeys) run(call *fetchCall) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	keys, maxAge, err := r.fetch(ctx)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	r.mu.Lock()
	now := r.now()
	if err == nil {
		r.keys, r.expires, r.failures, r.lastErr = keys, now.Add(maxAge), 0, nil
		r.next = now.Add(r.minRefresh())
	} else {
		r.failures++
		r.lastErr = err
		r.next = now.Add(r.backoff())
	}
	r.inflight = nil
	call.err = err
	r.mu.Unlock()
	close(call.done)
}

// jwksURL returns URL, or the jwks_uri found by Discover (calling it when
// it was not found yet).
func (r *RemoteKeys) jwksURL(ctx context.Context) (string, error) {
	if r.URL != "" || r.Discover == nil {
		return r.URL, nil
	}
	r.mu.Lock()
	u := r.url
	r.mu.Unlock()
	if u != "" {
		return u, nil
	}
	u, err := r.Discover(ctx)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	r.url = u
	r.mu.Unlock()
	return u, nil
}

func (r *RemoteKeys) fetch(ctx context.Context) (map[string]jose.JSONWebKey, time.Duration, error) {
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	u, err := r.jwksURL(ctx)
	if err != nil {
		return nil, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("token: fetching JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("token: fetching JWKS: status %d", resp.StatusCode)
	}
	limit := r.MaxBytes
	if limit <= 0 {
		limit = maxJWKSBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, 0, fmt.Errorf("token: reading JWKS: %w", err)
	}
	if len(body) > limit {
		return nil, 0, fmt.Errorf("token: JWKS larger than %d bytes", limit)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, 0, fmt.Errorf("token: malformed JWKS: %w", err)
	}
	keys := make(map[string]jose.JSONWebKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.KeyID == "" || !Supported(k.Algorithm) || !k.IsPublic() || k.Use == "enc" {
			continue
		}
		if checkKeyType(k.Algorithm, k.Key) != nil {
			continue
		}
		keys[k.KeyID] = k
	}
	maxAge := r.MaxAge
	if maxAge <= 0 {
		maxAge = time.Hour
	}
	if ma, ok := cacheMaxAge(resp.Header.Get("Cache-Control")); ok && ma < maxAge {
		maxAge = ma
	}
	// A max-age of 0 (or a few seconds) would refetch on every token: keep
	// the set at least MinRefresh, the same bound unknown kids get.
	if min := r.minRefresh(); maxAge < min {
		maxAge = min
	}
	return keys, maxAge, nil
}

// cacheMaxAge reads max-age from a Cache-Control header.
func cacheMaxAge(cc string) (time.Duration, bool) {
	for _, d := range strings.Split(cc, ",") {
		d = strings.TrimSpace(d)
		if v, ok := strings.CutPrefix(d, "max-age="); ok {
			n, err := strconv.Atoi(v)
			if err == nil && n >= 0 {
				return time.Duration(n) * time.Second, true
			}
		}
	}
	return 0, false
}
