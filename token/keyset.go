package token

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"sync/atomic"

	jose "github.com/go-jose/go-jose/v4"
)

// KeySet holds an issuer's keys: for each algorithm the newest active key
// signs; every key not removed is published and verifies. It is safe for
// concurrent use; reads take no lock.
type KeySet struct {
	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[keySnapshot]
}

type keyEntry struct {
	key     *Key
	retired bool
}

// keySnapshot is an immutable view of the set.
type keySnapshot struct {
	order   []*keyEntry // insertion order
	byID    map[string]*keyEntry
	signers map[string]*Key
	jwks    []byte
	algs    []string
}

// NewKeySet returns a set holding keys; later keys of an algorithm sign.
func NewKeySet(keys ...*Key) *KeySet {
	s := &KeySet{}
	s.snap.Store(buildSnapshot(nil))
	for _, k := range keys {
		s.Add(k)
	}
	return s
}

func buildSnapshot(order []*keyEntry) *keySnapshot {
	sn := &keySnapshot{order: order, byID: map[string]*keyEntry{}, signers: map[string]*Key{}}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, e := range order {
		sn.byID[e.key.id] = e
		if !e.retired {
			sn.signers[e.key.alg] = e.key
		}
		set.Keys = append(set.Keys, e.key.public)
	}
	for alg := range sn.signers {
		sn.algs = append(sn.algs, alg)
	}
	sort.Strings(sn.algs)
	sn.jwks, _ = json.Marshal(set) // public keys of supported types always marshal
	return sn
}

// update applies f to a copy of the entries and publishes the result.
func (s *KeySet) update(f func([]*keyEntry) []*keyEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snap.Load().order
	cp := make([]*keyEntry, len(old))
	for i, e := range old {
		c := *e
		cp[i] = &c
	}
	s.snap.Store(buildSnapshot(f(cp)))
}

// Add adds a key; it becomes the signing key of its algorithm. Adding a kid
// already present replaces that key.
func (s *KeySet) Add(k *Key) {
	s.update(func(es []*keyEntry) []*keyEntry {
		out := es[:0]
		for _, e := range es {
			if e.key.id != k.id {
				out = append(out, e)
			}
		}
		return append(out, &keyEntry{key: k})
	})
}

// Retire stops signing with kid. The key stays published and verifying
// until Remove; the newest other key of its algorithm signs instead.
func (s *KeySet) Retire(kid string) {
	s.update(func(es []*keyEntry) []*keyEntry {
		for _, e := range es {
			if e.key.id == kid {
				e.retired = true
			}
		}
		return es
	})
}

// Remove drops kid: it is no longer published nor accepted.
func (s *KeySet) Remove(kid string) {
	s.update(func(es []*keyEntry) []*keyEntry {
		out := es[:0]
		for _, e := range es {
			if e.key.id != kid {
				out = append(out, e)
			}
		}
		return out
	})
}

// Signer returns the signing key of alg, or ErrNoKey.
func (s *KeySet) Signer(alg string) (*Key, error) {
	if k := s.snap.Load().signers[alg]; k != nil {
		return k, nil
	}
	return nil, ErrNoKey
}

// JWKS returns the public keys as a JWK Set (RFC 7517 §5). The bytes are
// shared: do not modify them.
func (s *KeySet) JWKS() []byte { return s.snap.Load().jwks }

// Algorithms returns the algorithms that have an active signing key, sorted.
func (s *KeySet) Algorithms() []string {
	return append([]string(nil), s.snap.Load().algs...)
}

// VerificationKey implements KeySource.
func (s *KeySet) VerificationKey(_ context.Context, kid string) (jose.JSONWebKey, error) {
	if e := s.snap.Load().byID[kid]; e != nil {
		return e.key.public, nil
	}
	return jose.JSONWebKey{}, ErrUnknownKey
}
