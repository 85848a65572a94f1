package authz

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// keyReloadInterval bounds how often an unknown kid makes the server re-read
// the store's keys (another replica may have rotated).
const keyReloadInterval = 30 * time.Second

// storeKeys is the server's token.KeySource: its KeySet, reloaded from the
// store at most once per keyReloadInterval when a kid is unknown.
type storeKeys struct {
	set   *token.KeySet
	store storage.Store // nil when Config.Keys was given
	vault keyVault
	now   func() time.Time

	// mu serialises reloads from the store, key creation and removal.
	mu         sync.Mutex
	lastReload time.Time
}

// VerificationKey implements token.KeySource.
func (k *storeKeys) VerificationKey(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	key, err := k.set.VerificationKey(ctx, kid)
	if !errors.Is(err, token.ErrUnknownKey) || k.store == nil {
		return key, err
	}
	// Reloads hold mu, so that they are serialised with RemoveKey: a reload
	// that read the store before a removal cannot put the key back after it.
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, kerr := k.set.VerificationKey(ctx, kid); kerr == nil {
		return key, nil // loaded by a reload we waited for
	}
	if k.now().Sub(k.lastReload) < keyReloadInterval {
		return key, err
	}
	k.lastReload = k.now()
	if lerr := loadKeys(ctx, k.store, k.set, k.vault); lerr != nil {
		return key, err
	}
	return k.set.VerificationKey(ctx, kid)
}

// loadKeys adds every key of the store to set. A key that cannot be
// unwrapped or parsed is an error naming its kid.
func loadKeys(ctx context.Context, store storage.Store, set *token.KeySet, vault keyVault) error {
	recs, err := storage.All(ctx, store.Keys(), "")
	if err != nil {
		return err
	}
	for _, r := range recs {
		if _, known := set.VerificationKey(ctx, r.ID); known == nil {
			continue
		}
		k, err := vault.open(ctx, r)
		if err != nil {
			return err
		}
		set.Add(k)
		if !r.RetiredAt.IsZero() {
			set.Retire(k.ID())
		}
	}
	return nil
}

// bootstrapKeys loads the store's keys and creates an RS256 key when there
// is none, so a new deployment works with no key management at all.
func bootstrapKeys(ctx context.Context, store storage.Store, now time.Time, vault keyVault) (*token.KeySet, error) {
	vault.warnClear()
	set := token.NewKeySet()
	if err := loadKeys(ctx, store, set, vault); err != nil {
		return nil, err
	}
	if _, err := set.Signer(token.RS256); err == nil {
		return set, nil
	}
	if _, err := createKey(ctx, store, set, token.RS256, now, vault); err != nil {
		return nil, err
	}
	// Another replica may have created its own key at the same time: take it
	// too so its tokens verify here.
	if err := loadKeys(ctx, store, set, vault); err != nil {
		return nil, err
	}
	return set, nil
}

// createKey generates a key, stores it (wrapped when a KeyWrapper is
// configured) and adds it to set.
func createKey(ctx context.Context, store storage.Store, set *token.KeySet, alg string, now time.Time, vault keyVault) (*token.Key, error) {
	k, err := token.GenerateKey(alg)
	if err != nil {
		return nil, err
	}
	jwk, err := vault.seal(ctx, k)
	if err != nil {
		return nil, err
	}
	rec := &storage.SigningKey{ID: k.ID(), Alg: alg, JWK: jwk, CreatedAt: now.UTC()}
	if err := store.Keys().Create(ctx, rec); err != nil {
		return nil, err
	}
	set.Add(k)
	return k, nil
}

// RotateKey creates a new signing key for alg, stores it and signs with it
// from now on. Older keys stay published in the JWKS and keep verifying the
// tokens they signed: RetireKey stops one signing, RemoveKey stops it
// verifying.
func (s *Server) RotateKey(ctx context.Context, alg string) (kid string, err error) {
	if !token.Supported(alg) {
		return "", fmt.Errorf("authz: unsupported signing algorithm %q", alg)
	}
	k, err := createKey(ctx, s.store, s.keys.set, alg, s.cfg.Now(), s.keys.vault)
	if err != nil {
		return "", err
	}
	return k.ID(), nil
}

// RetireKey stops signing with the key; it stays published for verification.
func (s *Server) RetireKey(ctx context.Context, kid string) error {
	now := s.cfg.Now().UTC()
	err := revise(ctx, s.store.Keys(), kid, nil, func(rec *storage.SigningKey) error {
		rec.RetiredAt = now
		return nil
	})
	if err != nil {
		return err
	}
	s.keys.set.Retire(kid)
	return nil
}

// RemoveKey deletes the key kid from the store and the key set: it is no
// longer published, and every token it signed stops verifying at once,
// including tokens this server's authorizers had cached as verified. Use it
// for a retired key once its tokens have expired, or at once for a
// compromised key. Removing the key that signs for an algorithm makes the
// next issuance for it create a new one (Config.Keys nil) or fail with
// ErrNoKey (Config.Keys given).
//
// Other replicas over the same store stop trusting the key when they reload
// their keys (at start, or on an unknown kid); their remote authorizers when
// they next refetch the JWKS. A kid unknown to the store is not an error when
// it is in the key set, so keys of Config.Keys can be removed too.
func (s *Server) RemoveKey(ctx context.Context, kid string) error {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if s.keys.store != nil {
		if err := s.store.Keys().Delete(ctx, kid); err != nil {
			if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if _, kerr := s.keys.set.VerificationKey(ctx, kid); kerr != nil {
				return err
			}
		}
	} else if _, err := s.keys.set.VerificationKey(ctx, kid); err != nil {
		return fmt.Errorf("authz: no key %q: %w", kid, storage.ErrNotFound)
	}
	s.keys.set.Remove(kid)
	s.cache.forgetKey(kid)
	return nil
}

// Keys returns the server's key set (its JWKS is public). Change keys with
// RotateKey, RetireKey and RemoveKey: a key removed from the set alone is
// still in the store and comes back at the next reload.
func (s *Server) Keys() *token.KeySet { return s.keys.set }

// signer returns the signing key of alg. A tenant whose keys live in the
// store gets one created on first use, so configuring an API with ES256 or
// EdDSA needs no key management; with Config.Keys given, a missing key is an
// error.
func (s *Server) signer(ctx context.Context, alg string) (*token.Key, error) {
	k, err := s.keys.set.Signer(alg)
	if err == nil || s.keys.store == nil || !token.Supported(alg) {
		return k, err
	}
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if k, err := s.keys.set.Signer(alg); err == nil {
		return k, nil
	}
	if err := loadKeys(ctx, s.store, s.keys.set, s.keys.vault); err != nil {
		return nil, err
	}
	if k, err := s.keys.set.Signer(alg); err == nil {
		return k, nil
	}
	return createKey(ctx, s.store, s.keys.set, alg, s.cfg.Now(), s.keys.vault)
}
