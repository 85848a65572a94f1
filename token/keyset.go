package token

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// KeySet holds an issuer's keys: for each algorithm the newest active key
// signs; every key not removed is published and verifies. It is safe for
// concurrent use; reads take no lock.
type KeySet struct {
	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[keySnapshot]
}

// KeyState is a key as a KeySet holds it, with what decides whether and
// when it signs.
type KeyState struct {
	// Key is the key; its kid identifies the state.
	Key *Key
	// CreatedAt orders the keys of an algorithm: the newest eligible key
	// signs, keys created in the same instant are ordered by kid, so every
	// holder of the same states picks the same signer.
	CreatedAt time.Time
	// SignsFrom, when set, is the instant from which the key may sign.
	// Until then it is published and verifies while an older key of its
	// algorithm keeps signing (publish before sign); when there is no older
	// key it signs at once.
	SignsFrom time.Time
	// Retired keys never sign; they are published and verify until removed.
	Retired bool
}

// keySnapshot is an immutable view of the set.
type keySnapshot struct {
	states []KeyState // ordered by CreatedAt, then kid
	byID   map[string]*Key
	// candidates are the unretired keys of each algorithm, newest first.
	candidates map[string][]KeyState
	jwks       []byte
	algs       []string
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

// older orders states by CreatedAt, then kid.
func older(a, b KeyState) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return bytes.Compare([]byte(a.Key.id), []byte(b.Key.id))
}

func buildSnapshot(states []KeyState) *keySnapshot {
	slices.SortFunc(states, older)
	sn := &keySnapshot{states: states, byID: map[string]*Key{}, candidates: map[string][]KeyState{}}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, st := range states {
		sn.byID[st.Key.id] = st.Key
		set.Keys = append(set.Keys, st.Key.public)
	}
	for i := len(states) - 1; i >= 0; i-- {
		if st := states[i]; !st.Retired {
			sn.candidates[st.Key.alg] = append(sn.candidates[st.Key.alg], st)
		}
	}
	for alg := range sn.candidates {
		sn.algs = append(sn.algs, alg)
	}
	sort.Strings(sn.algs)
	sn.jwks, _ = json.Marshal(set) // public keys of supported types always marshal
	return sn
}

// update applies f to a copy of the states and publishes the result.
func (s *KeySet) update(f func([]KeyState) []KeyState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.Store(buildSnapshot(f(slices.Clone(s.snap.Load().states))))
}

// Add adds a key, created now or, when the set holds a key created later,
// just after the newest: it becomes the signing key of its algorithm. Adding
// a kid already present replaces that key.
func (s *KeySet) Add(k *Key) {
	s.update(func(sts []KeyState) []KeyState {
		created := time.Now()
		for _, st := range sts {
			if !st.CreatedAt.Before(created) {
				created = st.CreatedAt.Add(time.Nanosecond)
			}
		}
		sts = slices.DeleteFunc(sts, func(st KeyState) bool { return st.Key.id == k.id })
		return append(sts, KeyState{Key: k, CreatedAt: created})
	})
}

// Replace makes states the set's exact contents: keys not among them are
// removed (no longer published nor accepted). A kid given twice keeps its
// last state.
func (s *KeySet) Replace(states []KeyState) {
	s.update(func([]KeyState) []KeyState {
		seen := make(map[string]int, len(states))
		out := make([]KeyState, 0, len(states))
		for _, st := range states {
			if st.Key == nil {
				continue
			}
			if i, ok := seen[st.Key.id]; ok {
				out[i] = st
				continue
			}
			seen[st.Key.id] = len(out)
			out = append(out, st)
		}
		return out
	})
}

// Retire stops signing with kid. The key stays published and verifying
// until Remove; the newest other key of its algorithm signs instead.
func (s *KeySet) Retire(kid string) {
	s.update(func(sts []KeyState) []KeyState {
		for i := range sts {
			if sts[i].Key.id == kid {
				sts[i].Retired = true
			}
		}
		return sts
	})
}

// Remove drops kid: it is no longer published nor accepted.
func (s *KeySet) Remove(kid string) {
	s.update(func(sts []KeyState) []KeyState {
		return slices.DeleteFunc(sts, func(st KeyState) bool { return st.Key.id == kid })
	})
}

// Signer returns the signing key of alg now, or ErrNoKey (see SignerAt).
func (s *KeySet) Signer(alg string) (*Key, error) { return s.SignerAt(alg, time.Now()) }

// SignerAt returns the key that signs for alg at now: the newest unretired
// key of alg whose SignsFrom has passed. When every unretired key of alg is
// still waiting (the key that signed was retired or removed meanwhile), the
// oldest of them signs, as it has been published longest. ErrNoKey when alg
// has no unretired key.
func (s *KeySet) SignerAt(alg string, now time.Time) (*Key, error) {
	cands := s.snap.Load().candidates[alg]
	for _, st := range cands {
		if st.SignsFrom.IsZero() || !now.Before(st.SignsFrom) {
			return st.Key, nil
		}
	}
	if len(cands) > 0 {
		return cands[len(cands)-1].Key, nil
	}
	return nil, ErrNoKey
}

// States returns the set's keys with their states, oldest first. The slice
// is the caller's; the keys are shared and immutable.
func (s *KeySet) States() []KeyState { return slices.Clone(s.snap.Load().states) }

// JWKS returns the public keys as a JWK Set (RFC 7517 §5), oldest first. The
// bytes are shared: do not modify them.
func (s *KeySet) JWKS() []byte { return s.snap.Load().jwks }

// Algorithms returns the algorithms that have an unretired key, sorted.
func (s *KeySet) Algorithms() []string {
	return append([]string(nil), s.snap.Load().algs...)
}

// VerificationKey implements KeySource.
func (s *KeySet) VerificationKey(_ context.Context, kid string) (jose.JSONWebKey, error) {
	if k := s.snap.Load().byID[kid]; k != nil {
		return k.public, nil
	}
	return jose.JSONWebKey{}, ErrUnknownKey
}
