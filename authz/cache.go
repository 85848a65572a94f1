package authz

import (
	"sync"
	"time"
)

// verifiedCache remembers tokens that verified, keyed by the token itself
// (Go's map hashing, with the full string compared on lookup, so no
// collision can map one token to another's principal). An entry is valid
// until the token's exp. The store's revocation check still runs on every
// hit. It is bounded: when full, a tenth of the entries is dropped.
type verifiedCache struct {
	mu      sync.RWMutex
	max     int
	entries map[string]*Principal
}

func newVerifiedCache(max int) *verifiedCache {
	if max <= 0 {
		return nil
	}
	return &verifiedCache{max: max, entries: make(map[string]*Principal, max)}
}

// get returns the principal of a token verified before and not expired.
func (c *verifiedCache) get(raw string, now time.Time) *Principal {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	p := c.entries[raw]
	c.mu.RUnlock()
	if p == nil || !now.Before(p.ExpiresAt) {
		return nil
	}
	return p
}

// put remembers a verified token.
func (c *verifiedCache) put(raw string, p *Principal) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		drop := c.max / 10
		for k := range c.entries {
			if drop <= 0 {
				break
			}
			delete(c.entries, k)
			drop--
		}
	}
	c.entries[raw] = p
}

// forget drops a token (it was revoked), or everything when raw is empty.
func (c *verifiedCache) forget(raw string) {
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
