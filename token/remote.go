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
// and cached. An unknown kid refetches at most once per MinRefresh, so a
// flood of tokens with made-up kids cannot make it hammer the issuer, and
// concurrent misses share one fetch. Keys without "alg" are ignored (the
// algorithm is taken from the key, never from the token).
type RemoteKeys struct {
	// URL is the jwks_uri.
	URL string
	// Client fetches the JWKS. Nil means a client with a 10-second timeout.
	Client *http.Client
	// MinRefresh is the least time between two fetches. Zero means 1 minute.
	MinRefresh time.Duration
	// MaxAge is how long a fetched set is trusted before it is refetched on
	// the next lookup; a Cache-Control max-age of the response shortens it,
	// down to MinRefresh at least. A kid that is gone from the refetched set
	// stops verifying. Zero means 1 hour.
	MaxAge time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time

	mu        sync.Mutex
	keys      map[string]jose.JSONWebKey
	fetchedAt time.Time
	expires   time.Time
	inflight  *fetchCall
}

type fetchCall struct {
	done chan struct{}
	err  error
}

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

func (r *RemoteKeys) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// VerificationKey implements KeySource.
func (r *RemoteKeys) VerificationKey(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	r.mu.Lock()
	k, ok := r.keys[kid]
	fresh := r.now().Before(r.expires)
	r.mu.Unlock()
	if ok && fresh {
		return k, nil
	}
	if err := r.refresh(ctx, !fresh); err != nil && !ok {
		return jose.JSONWebKey{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := r.keys[kid]; ok {
		return k, nil
	}
	return jose.JSONWebKey{}, ErrUnknownKey
}

// refresh fetches the set unless one was fetched within MinRefresh (a
// stale set is always refetched); concurrent callers share one fetch.
func (r *RemoteKeys) refresh(ctx context.Context, stale bool) error {
	minRefresh := r.minRefresh()
	r.mu.Lock()
	if call := r.inflight; call != nil {
		r.mu.Unlock()
		select {
		case <-call.done:
			return call.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if !stale && !r.fetchedAt.IsZero() && r.now().Sub(r.fetchedAt) < minRefresh {
		r.mu.Unlock()
		return ErrUnknownKey
	}
	call := &fetchCall{done: make(chan struct{})}
	r.inflight = call
	r.mu.Unlock()

	keys, maxAge, err := r.fetch(ctx)
	r.mu.Lock()
	r.fetchedAt = r.now()
	if err == nil {
		r.keys = keys
		r.expires = r.fetchedAt.Add(maxAge)
	}
	r.inflight = nil
	call.err = err
	r.mu.Unlock()
	close(call.done)
	return err
}

func (r *RemoteKeys) fetch(ctx context.Context) (map[string]jose.JSONWebKey, time.Duration, error) {
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
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
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("token: reading JWKS: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, 0, fmt.Errorf("token: JWKS larger than %d bytes", maxJWKSBytes)
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
