package memory

import (
	"container/heap"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// sweepEvery is how many expiries a tenant schedules between two sweeps, and
// sweepMax bounds the entries one sweep reclaims of each kind, so no write
// pays for a full scan. Each kind has its own expiry queue and its own
// budget: a flood of one kind (pending requests, say) cannot keep the sweep
// from the others, and as a sweep may reclaim more of a kind (sweepMax) than
// all the writes since the last one scheduled (sweepEvery), every expired
// entry is reclaimed within a bounded number of sweeps.
const (
	sweepEvery = 256
	sweepMax   = 1024
)

// kind is a short-lived map of a tenant.
type kind int

const (
	kindRequest kind = iota
	kindCode
	kindFamily
	kindRevoked
	kindTombstone
	kindUsed
	kindDevice
	kindAttempt
	kindOpaque
	kindSession
	kinds
)

// expiry is a scheduled look at one entry of a kind.
type expiry struct {
	at  time.Time
	key string
}

// expiryQueue is a min-heap of expiries by instant (container/heap).
type expiryQueue []expiry

func (q expiryQueue) Len() int           { return len(q) }
func (q expiryQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q expiryQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *expiryQueue) Push(x any)        { *q = append(*q, x.(expiry)) }
func (q *expiryQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// schedule records that the entry key of kind k may be reclaimed at at, and
// sweeps every sweepEvery schedules. The caller holds the write lock. An
// entry whose expiry moves later is scheduled again; its earlier look finds
// it live and leaves it.
func (t *tenant) schedule(k kind, key string, at, now time.Time) {
	heap.Push(&t.queues[k], expiry{at: at, key: key})
	t.writes++
	if t.writes >= sweepEvery {
		t.writes = 0
		t.sweep(now)
	}
}

// sweep reclaims, of each kind, up to sweepMax entries whose scheduled
// instant has passed and that are expired at now.
func (t *tenant) sweep(now time.Time) {
	for k := range kinds {
		q := &t.queues[k]
		for n := 0; n < sweepMax && q.Len() > 0 && storage.Expired((*q)[0].at, now); n++ {
			t.reclaim(k, heap.Pop(q).(expiry).key, now)
		}
	}
}

// reclaim deletes the entry key of kind k if it is expired at now (it may
// have been replaced or extended since it was scheduled).
func (t *tenant) reclaim(k kind, key string, now time.Time) {
	switch k {
	case kindRequest:
		if r, ok := t.requests[key]; ok && storage.Expired(r.ExpiresAt, now) {
			delete(t.requests, key)
		}
	case kindCode:
		if c, ok := t.codes[key]; ok && storage.Expired(storage.CodeKeptUntil(c), now) {
			delete(t.codes, key)
		}
	case kindFamily:
		if e, ok := t.families[key]; ok && storage.Expired(e.f.ExpiresAt, now) {
			delete(t.families, key)
		}
	case kindRevoked:
		if exp, ok := t.revoked[key]; ok && storage.Expired(exp, now) {
			delete(t.revoked, key)
		}
	case kindTombstone:
		if exp, ok := t.tombstones[key]; ok && storage.Expired(exp, now) {
			delete(t.tombstones, key)
		}
	case kindUsed:
		if exp, ok := t.used[key]; ok && storage.Expired(exp, now) {
			delete(t.used, key)
		}
	case kindDevice:
		if d, ok := t.devices[key]; ok && storage.Expired(storage.DeviceKeptUntil(d), now) {
			delete(t.devices, key)
		}
	case kindAttempt:
		t.reclaimAttempts(key, now)
	case kindOpaque:
		if o, ok := t.opaque[key]; ok && storage.Expired(o.ExpiresAt, now) {
			delete(t.opaque, key)
		}
	case kindSession:
		if sess, ok := t.sessions[key]; ok && storage.Expired(sess.ExpiresAt, now) {
			t.dropSession(key)
		}
	}
}
