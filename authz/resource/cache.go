package resource

import (
	"sync"
	"time"
)

// Cache remembers tokens that verified, for the authorizers that share it
// (Config.Cache), keyed by the token itself (Go's map hashing, with the full string compared on lookup, so no
// collision can map one token to another's principal). An entry is valid
// until the token's exp and while the key that signed it is still known;
// the revocation check still runs on every hit. It is bounded: when full, a
// tenth of the entries is dropped. It is safe for concurrent use.
//
// The *Principal of an entry is handed to every caller presenting the same
// token, so a repeat Authorize costs no allocation. Handlers must treat it
// as read-only (see Principal). Even so, a hit is served only after the
// shared principal is compared with the entry's private copies of what the
// token said (subject, client, scope, audience, jti, times, claim count):
// one that a handler modified is dropped and the token verified afresh, so
// the change reaches neither a later decision nor a later handler. The
// audience, expiry, revocation and key checks of a hit read the private
// copies only.
type Cache struct {
	mu      sync.RWMutex
	max     int
	entries map[string]*cacheEntry
}

// cacheEntry is a verified token: the principal handed out and private
// copies of everything the decision and the tamper check read.
type cacheEntry struct {
	p *Principal

	kid                 string
	subject, client     string
	scope, jti, jkt     string
	audience            []string
	issuedAt, expiresAt time.Time
	claimCount          int
	// epoch is the RevocationFeed epoch its revocation lookup ran in.
	epoch uint64
}

// NewCache returns a cache of at most max tokens, or nil (no caching, which
// every method accepts) when max is not positive.
func NewCache(max int) *Cache {
	if max <= 0 {
		return nil
	}
	return &Cache{max: max, entries: make(map[string]*cacheEntry, max)}
}

// get returns the entry of a token verified before and not expired.
func (c *Cache) get(raw string, now time.Time) *cacheEntry {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	e := c.entries[raw]
	c.mu.RUnlock()
	if e == nil || !now.Before(e.expiresAt) {
		return nil
	}
	return e
}

// put remembers a verified token signed by the key kid.
func (c *Cache) put(raw, kid string, p *Principal, epoch uint64) {
	if c == nil {
		return
	}
	e := &cacheEntry{
		p: p, kid: kid, subject: p.Subject, client: p.ClientID, scope: p.Scope, jti: p.JTI, jkt: p.JKT,
		audience: append([]string(nil), p.Audience...), issuedAt: p.IssuedAt, expiresAt: p.ExpiresAt,
		claimCount: len(p.Claims), epoch: epoch,
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		drop := c.max / 10
		if drop < 1 {
			drop = 1
		}
		for k := range c.entries {
			if drop <= 0 {
				break
			}
			delete(c.entries, k)
			drop--
		}
	}
	c.entries[raw] = e
}

// Forget drops a token (it was revoked), or every token when raw is empty.
func (c *Cache) Forget(raw string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if raw == "" {
		clear(c.entries)
		return
	}
	delete(c.entries, raw)
}

// ForgetKey drops every token signed by the key kid (it was removed).
func (c *Cache) ForgetKey(kid string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for raw, e := range c.entries {
		if e.kid == kid {
			delete(c.entries, raw)
		}
	}
}

// Len returns the number of tokens cached.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// intact reports whether the shared principal still says what the token
// said when it verified: a handler that modified it (against Principal's
// contract) must not pass the change on to later requests.
func (e *cacheEntry) intact() bool {
	p := e.p
	if p.Subject != e.subject || p.ClientID != e.client || p.Scope != e.scope || p.JTI != e.jti || p.JKT != e.jkt ||
		!p.IssuedAt.Equal(e.issuedAt) || !p.ExpiresAt.Equal(e.expiresAt) ||
		len(p.Claims) != e.claimCount || len(p.Audience) != len(e.audience) {
		return false
	}
	for i, a := range e.audience {
		if p.Audience[i] != a {
			return false
		}
	}
	return true
}
