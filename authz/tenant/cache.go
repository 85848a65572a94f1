package tenant

import (
	"container/list"
	"net/http"
	"sync"
	"time"

	"github.com/scopekit/scopekit/authz"
)

// entry is one cached tenant Server, or its build in progress.
type entry struct {
	id    string
	ready chan struct{} // closed when the build ended
	// Set before ready is closed, read-only after.
	srv     *authz.Server
	handler http.Handler
	created time.Time // the record's CreatedAt: a re-created tenant differs
	err     error

	// Guarded by Registry.mu.
	elem    *list.Element
	checked time.Time // when the record was last read
	gone    bool      // evicted or deleted: take no new requests
	// inflight counts the HTTP requests being served; Delete waits for them
	// before it drops the tenant's data. Add is called under Registry.mu
	// while gone is false only.
	inflight sync.WaitGroup
}

// closeWhenBuilt closes the entry's Server once its build has ended.
func (e *entry) closeWhenBuilt() {
	<-e.ready
	if e.srv != nil {
		_ = e.srv.Close()
	}
}

// cache is the bounded set of entries, most recently used first. The
// caller holds Registry.mu.
type cache struct {
	max     int
	entries map[string]*entry
	lru     *list.List
}

func newCache(max int) *cache { return &cache{max: max, entries: map[string]*entry{}, lru: list.New()} }

// get returns the entry of id and marks it used.
func (c *cache) get(id string) *entry {
	e := c.entries[id]
	if e != nil {
		c.lru.MoveToFront(e.elem)
	}
	return e
}

// add inserts e and returns the entries evicted to stay within max, marked
// gone, for the caller to close outside the lock.
func (c *cache) add(e *entry) []*entry {
	e.elem = c.lru.PushFront(e)
	c.entries[e.id] = e
	var out []*entry
	for c.lru.Len() > c.max {
		old := c.lru.Back().Value.(*entry)
		c.remove(old)
		out = append(out, old)
	}
	return out
}

// remove takes e out of the cache, if it is still there, and marks it gone.
func (c *cache) remove(e *entry) {
	if c.entries[e.id] == e {
		delete(c.entries, e.id)
		c.lru.Remove(e.elem)
	}
	e.gone = true
}

// all removes and returns every entry.
func (c *cache) all() []*entry {
	out := make([]*entry, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, e)
	}
	for _, e := range out {
		c.remove(e)
	}
	return out
}
