package authz

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// maxReusableTokens bounds the tokens kept for reuse
// (Config.ClientCredentialsReuseWindow).
const maxReusableTokens = 10_000

// reusedTokens keeps, per client, audience, scopes and signing key, the
// last client-credentials access token issued, so that an identical
// request within the reuse window gets that token again instead of a new
// RSA signature (docs/PERFORMANCE.md). A nil *reusedTokens reuses nothing.
type reusedTokens struct {
	window time.Duration
	mu     sync.Mutex
	tokens map[string]reusedToken
}

// reusedToken is one token kept for reuse.
type reusedToken struct {
	raw, jti       string
	issued, expiry time.Time
}

func newReusedTokens(window time.Duration) *reusedTokens {
	if window <= 0 {
		return nil
	}
	return &reusedTokens{window: window, tokens: map[string]reusedToken{}}
}

// reuseKey returns the key of a decision whose access token may be shared,
// "" when it may not: only client-credentials tokens no rule added a claim
// to, so that every holder of the token would have got the same claims
// (besides jti, iat and exp).
func reuseKey(c *storage.Client, d *Decision, at *token.AccessToken, kid string) string {
	if d.Trigger != TriggerClientCredentials || d.User != nil || d.Family != "" || len(d.AccessClaims) > 0 {
		return ""
	}
	return strings.Join([]string{c.ID, strings.Join(at.Audience, " "), at.Scope, kid}, "\x1f")
}

// accessToken signs the access token, or, when reuse is on and an
// identical client-credentials request was answered within the window with
// a token still valid and not revoked, returns that token. It returns the
// token's expiry.
func (s *Server) accessToken(ctx context.Context, c *storage.Client, d *Decision, alg string, at *token.AccessToken, now time.Time) (string, time.Time, error) {
	r := s.reuse
	if r == nil || d.API != nil && d.API.TokenFormat == storage.TokenFormatOpaque {
		// An opaque token is a stored record per issuance: never shared.
		raw, err := s.issueAccess(ctx, d.API, alg, at)
		return raw, at.ExpiresAt, err
	}
	key, err := s.signer(ctx, alg)
	if err != nil {
		return "", time.Time{}, err
	}
	k := reuseKey(c, d, at, key.ID())
	if k != "" {
		r.mu.Lock()
		t, ok := r.tokens[k]
		r.mu.Unlock()
		if ok && now.Before(t.issued.Add(r.window)) && now.Before(t.expiry) {
			revoked, err := s.store.TokenRevoked(ctx, "", t.jti)
			if err != nil {
				return "", time.Time{}, err
			}
			if !revoked {
				return t.raw, t.expiry, nil
			}
		}
	}
	raw, err := s.signAccess(ctx, alg, at)
	if err != nil || k == "" {
		return raw, at.ExpiresAt, err
	}
	r.put(k, reusedToken{raw: raw, jti: at.JTI, issued: now, expiry: at.ExpiresAt}, now)
	return raw, at.ExpiresAt, nil
}

// put keeps a token for reuse, dropping the stale ones when full.
func (r *reusedTokens) put(k string, t reusedToken, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.tokens) >= maxReusableTokens {
		for key, old := range r.tokens {
			if !now.Before(old.issued.Add(r.window)) {
				delete(r.tokens, key)
			}
		}
		if len(r.tokens) >= maxReusableTokens {
			clear(r.tokens)
		}
	}
	r.tokens[k] = t
}

// forget drops a token revoked through this server from reuse.
func (r *reusedTokens) forget(jti string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, t := range r.tokens {
		if t.jti == jti {
			delete(r.tokens, k)
		}
	}
}
