package authz

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scopekit/scopekit/authz/event"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

const (
	// defaultKeyReloadInterval is Config.KeyReloadInterval's default.
	defaultKeyReloadInterval = 20 * time.Second
	// defaultKeyPublishDelay is Config.KeyPublishDelay's default: well over
	// the reload interval plus a remote API's one-minute JWKS refresh.
	defaultKeyPublishDelay = 5 * time.Minute
	// unknownKidReloadGap bounds how often a token naming an unknown kid
	// makes the server re-read the store's keys: whoever sends a token
	// chooses its kid.
	unknownKidReloadGap = time.Second
	// maxJWKSMaxAge caps the JWKS's Cache-Control max-age.
	maxJWKSMaxAge = 300 * time.Second
)

// storeKeys is the server's token.KeySource and the replica's copy of the
// store's key set. With keys in the store, the set is replaced by exactly
// the store's keys at every reload: periodically (keysync.go), on a change
// announced by the store, on demand (ReloadKeys), and on the request path
// when the last good reload is older than the interval.
type storeKeys struct {
	set          *token.KeySet
	store        storage.Store // nil when Config.Keys was given
	vault        keyVault
	now          func() time.Time
	interval     time.Duration
	publishDelay time.Duration
	logger       *slog.Logger
	emit         func(context.Context, event.Event)

	// mu serialises reloads from the store, key creation and removal, so a
	// reload that read the store before a local removal cannot put the key
	// back after it.
	mu sync.Mutex
	// opened caches the keys opened from their records (by kid, with the
	// record's JWK), so a reload unwraps only new or rewrapped keys. Held
	// under mu.
	opened map[string]openedKey

	// loadedAt is the server clock's UnixNano at the last good reload.
	loadedAt atomic.Int64
	// failing is set while reloads fail, so the failure and the recovery
	// are each logged once.
	failing atomic.Bool
	// flight is the request-path reload under way, shared by the requests
	// that wait for it.
	flightMu sync.Mutex
	flight   *reloadCall

	// stop ends the background reloads; done is closed when they have.
	stop context.CancelFunc
	done chan struct{}
}

// openedKey is a key opened from a record's JWK.
type openedKey struct {
	jwk []byte
	key *token.Key
}

// reloadCall is one reload that several requests wait for.
type reloadCall struct {
	done chan struct{}
	err  error
}

// VerificationKey implements token.KeySource. With keys in the store, a
// set older than the reload interval is reloaded first, and a failed reload
// is the store's error (temporarily_unavailable), not an unknown key.
func (k *storeKeys) VerificationKey(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	if k.store == nil {
		return k.set.VerificationKey(ctx, kid)
	}
	// A failed reload is the store's: it is answered as AsError maps it
	// (503 for an outage), never as a bad token.
	if err := k.fresh(ctx); err != nil {
		return jose.JSONWebKey{}, AsError(err)
	}
	key, err := k.set.VerificationKey(ctx, kid)
	if !errors.Is(err, token.ErrUnknownKey) || k.now().Sub(k.loaded()) < unknownKidReloadGap {
		return key, err
	}
	if rerr := k.reloadShared(ctx); rerr != nil {
		return key, AsError(rerr)
	}
	return k.set.VerificationKey(ctx, kid)
}

// loaded is the instant of the last good reload.
func (k *storeKeys) loaded() time.Time { return time.Unix(0, k.loadedAt.Load()) }

// fresh reloads the keys when the last good reload is older than the
// interval (the background reload is late, failing, or the clock was
// moved); every request retries while that lasts, so the first one after
// the backend is back succeeds.
func (k *storeKeys) fresh(ctx context.Context) error {
	if k.now().Sub(k.loaded()) < k.interval {
		return nil
	}
	return k.reloadShared(ctx)
}

// reloadShared reloads the keys, or waits for the request-path reload
// already under way and shares its result.
func (k *storeKeys) reloadShared(ctx context.Context) error {
	k.flightMu.Lock()
	if c := k.flight; c != nil {
		k.flightMu.Unlock()
		select {
		case <-c.done:
			return c.err
		case <-ctx.Done():
			return fmt.Errorf("%w: waiting for the signing keys: %w", storage.ErrUnavailable, ctx.Err())
		}
	}
	c := &reloadCall{done: make(chan struct{})}
	k.flight = c
	k.flightMu.Unlock()
	c.err = k.reload(ctx)
	k.flightMu.Lock()
	k.flight = nil
	k.flightMu.Unlock()
	close(c.done)
	return c.err
}

// reload replaces the key set with exactly the store's.
func (k *storeKeys) reload(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reloadLocked(ctx)
}

// reloadLocked is reload with mu held. A failure leaves the set as it was
// and is logged, once until a reload succeeds again.
func (k *storeKeys) reloadLocked(ctx context.Context) error {
	states, opened, err := k.read(ctx)
	if err != nil {
		if !k.failing.Swap(true) {
			k.logger.Warn("authz: cannot reload the signing keys from the store; requests needing them answer 503 once the keys are older than Config.KeyReloadInterval",
				"issuer", k.vault.issuer, "error", err)
		}
		return err
	}
	k.set.Replace(states)
	k.opened = opened
	k.loadedAt.Store(k.now().UnixNano())
	if k.failing.Swap(false) {
		k.logger.Info("authz: signing keys reloaded from the store again", "issuer", k.vault.issuer)
	}
	return nil
}

// read lists the store's keys and opens them (reusing the keys already
// opened from the same JWK). A key that cannot be opened is an error
// naming its kid.
func (k *storeKeys) read(ctx context.Context) ([]token.KeyState, map[string]openedKey, error) {
	recs, err := storage.All(ctx, k.store.Keys(), "")
	if err != nil {
		return nil, nil, err
	}
	states := make([]token.KeyState, 0, len(recs))
	opened := make(map[string]openedKey, len(recs))
	for _, r := range recs {
		if isRetrySecret(r) {
			continue
		}
		o, ok := k.opened[r.ID]
		if !ok || string(o.jwk) != string(r.JWK) {
			key, err := k.vault.open(ctx, r)
			if err != nil {
				return nil, nil, err
			}
			o = openedKey{jwk: r.JWK, key: key}
		}
		opened[r.ID] = o
		states = append(states, stateOf(r, o.key))
	}
	return states, opened, nil
}

// stateOf is the key-set state of a stored key.
func stateOf(r *storage.SigningKey, key *token.Key) token.KeyState {
	return token.KeyState{Key: key, CreatedAt: r.CreatedAt, SignsFrom: r.SignsFrom, Retired: !r.RetiredAt.IsZero()}
}

// bootstrap loads the store's keys and creates the RS256 key when there is
// none, so a new deployment works with no key management at all.
func (k *storeKeys) bootstrap(ctx context.Context) error {
	// A done ctx stops each step, whether or not the store checks ctx.
	if err := ctx.Err(); err != nil {
		return err
	}
	k.vault.warnClear()
	if err := k.reload(ctx); err != nil {
		return err
	}
	if _, err := k.set.SignerAt(token.RS256, k.now()); err == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := k.firstKey(ctx, token.RS256)
	return err
}

// firstKey returns the signer of alg when the store has no unretired key of
// alg, creating it (createSlotKey).
func (k *storeKeys) firstKey(ctx context.Context, alg string) (*token.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.reloadLocked(ctx); err != nil {
		return nil, err
	}
	if key, err := k.set.SignerAt(alg, k.now()); err == nil {
		return key, nil
	}
	if err := k.createSlotKey(ctx, alg); err != nil {
		return nil, err
	}
	return k.set.SignerAt(alg, k.now())
}

// createSlotKey creates a key of alg that signs at once, and reloads. It
// runs with mu held, the set just reloaded. Replicas doing so at once create
// one key: its kid is a slot derived from the issuer, the algorithm and the
// kids of alg in the store, so they all name the same record, Create is
// atomic, and the losers (ErrDuplicate) reload and take the winner's key.
// The kids the slot is derived from are never all gone (RemoveKey creates a
// successor before it removes the last key of an algorithm), so a slot's
// kid is never used twice.
func (k *storeKeys) createSlotKey(ctx context.Context, alg string) error {
	key, err := token.GenerateKeyWithID(alg, slotKid(k.vault.issuer, alg, k.set.States()))
	if err != nil {
		return err
	}
	jwk, err := k.vault.seal(ctx, key)
	if err != nil {
		return err
	}
	rec := &storage.SigningKey{ID: key.ID(), Alg: alg, JWK: jwk, CreatedAt: k.now().UTC()}
	switch err := k.store.Keys().Create(ctx, rec); {
	case err == nil:
		k.emit(ctx, keyEvent(event.KeyCreated, rec.ID, alg))
	case !errors.Is(err, storage.ErrDuplicate):
		return err
	}
	return k.reloadLocked(ctx)
}

// slotKid is the kid of a key createSlotKey makes: a hash of the issuer,
// alg and the kids of alg the store holds, the same at every replica that
// read the same keys.
func slotKid(issuer, alg string, states []token.KeyState) string {
	var kids []string
	for _, st := range states {
		if st.Key.Alg() == alg {
			kids = append(kids, st.Key.ID())
		}
	}
	sort.Strings(kids)
	h := sha256.New()
	h.Write([]byte("scopekit key slot\x00" + issuer + "\x00" + alg))
	for _, kid := range kids {
		h.Write([]byte("\x00" + kid))
	}
	return alg + "." + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// RotateKey creates a new signing key for alg and stores it. It is
// published in the JWKS at once but signs only after Config.KeyPublishDelay
// (at every replica: the instant is stored with the key), so that every
// replica and every remote API's cached JWKS knows it before any token it
// signed is presented; meanwhile the current key keeps signing. A first key
// of alg signs at once. Older keys stay published and keep verifying the
// tokens they signed: RetireKey stops one signing, RemoveKey stops it
// verifying. See docs/KEYS.md.
func (s *Server) RotateKey(ctx context.Context, alg string) (kid string, err error) {
	if !token.Supported(alg) {
		return "", fmt.Errorf("authz: unsupported signing algorithm %q", alg)
	}
	k := s.keys
	key, err := token.GenerateKey(alg)
	if err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now().UTC()
	created := k.after(alg, now)
	rec := &storage.SigningKey{ID: key.ID(), Alg: alg, CreatedAt: created, SignsFrom: now.Add(k.publishDelay)}
	if k.store != nil {
		if rec.JWK, err = k.vault.seal(ctx, key); err != nil {
			return "", err
		}
		if err := k.store.Keys().Create(ctx, rec); err != nil {
			return "", err
		}
		k.opened[rec.ID] = openedKey{jwk: rec.JWK, key: key}
	}
	k.set.Replace(append(k.set.States(), stateOf(rec, key)))
	k.emit(ctx, keyEvent(event.KeyRotated, key.ID(), alg))
	return key.ID(), nil
}

// after returns now, or when a key of alg was created at or after it, the
// millisecond after the newest: a rotated key is strictly newer than every
// key before it, also at the millisecond precision of some stores.
func (k *storeKeys) after(alg string, now time.Time) time.Time {
	created := now.Truncate(time.Millisecond)
	for _, st := range k.set.States() {
		if st.Key.Alg() == alg && !st.CreatedAt.Before(created) {
			created = st.CreatedAt.Truncate(time.Millisecond).Add(time.Millisecond)
		}
	}
	return created
}

// RetireKey stops signing with the key; it stays published for
// verification. Other replicas stop signing with it within
// Config.KeyReloadInterval.
func (s *Server) RetireKey(ctx context.Context, kid string) error {
	if kid == retrySecretKid {
		return errNotSigningKey(kid)
	}
	now := s.cfg.Now().UTC()
	err := revise(ctx, s.store.Keys(), kid, nil, func(rec *storage.SigningKey) error {
		rec.RetiredAt = now
		return nil
	})
	if err != nil {
		return err
	}
	s.keys.set.Retire(kid)
	s.emit(ctx, keyEvent(event.KeyRetired, kid, ""))
	return nil
}

// errNotSigningKey answers a key operation naming the retry secret, which
// lives among the signing-key records but is no signing key: retiring or
// removing it would turn every retry within the window into a reuse alarm.
func errNotSigningKey(kid string) error {
	return fmt.Errorf("authz: %q is not a signing key: %w", kid, storage.ErrNotFound)
}

// RemoveKey deletes the key kid from the store and the key set: it is no
// longer published, and every token it signed stops verifying at once,
// including tokens this server's authorizers had cached as verified. Use it
// for a retired key once its tokens have expired, or at once for a
// compromised key (after RotateKey, see docs/KEYS.md). Removing the key
// that signs for an algorithm makes the next issuance for it sign with the
// key rotated in meanwhile, at once; removing the store's last key of an
// algorithm first creates its successor, which signs at once. With
// Config.Keys, an algorithm left without a key fails with ErrNoKey.
//
// Every other replica over the same store drops the key within
// Config.KeyReloadInterval (at once where the store announces changes);
// remote authorizers when they next refetch the JWKS. A kid unknown to the
// store is not an error when it is in the key set, so keys of Config.Keys
// can be removed too.
func (s *Server) RemoveKey(ctx context.Context, kid string) error {
	if kid == retrySecretKid {
		return errNotSigningKey(kid)
	}
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if s.keys.store != nil {
		if err := s.keys.successor(ctx, kid); err != nil {
			return err
		}
		if err := s.store.Keys().Delete(ctx, kid); err != nil {
			if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if _, kerr := s.keys.set.VerificationKey(ctx, kid); kerr != nil {
				return err
			}
		}
		delete(s.keys.opened, kid)
	} else if _, err := s.keys.set.VerificationKey(ctx, kid); err != nil {
		return fmt.Errorf("authz: no key %q: %w", kid, storage.ErrNotFound)
	}
	s.keys.set.Remove(kid)
	s.cache.ForgetKey(kid)
	s.emit(ctx, keyEvent(event.KeyRemoved, kid, ""))
	return nil
}

// successor creates a key that signs at once for the algorithm of kid when
// kid is the store's last key of it, so that issuance goes on and the kids
// a slot is derived from never all disappear. It runs with mu held.
func (k *storeKeys) successor(ctx context.Context, kid string) error {
	if err := k.reloadLocked(ctx); err != nil {
		return err
	}
	alg, n := "", 0
	for _, st := range k.set.States() {
		if st.Key.ID() == kid {
			alg = st.Key.Alg()
		}
	}
	for _, st := range k.set.States() {
		if alg != "" && st.Key.Alg() == alg {
			n++
		}
	}
	if n != 1 {
		return nil
	}
	return k.createSlotKey(ctx, alg)
}

// ReloadKeys replaces the server's key set with exactly the store's keys
// now: keys added elsewhere appear, retired ones stop signing, removed ones
// stop verifying. Servers reload on their own (Config.KeyReloadInterval);
// call it after changing keys outside any server. With Config.Keys it does
// nothing.
func (s *Server) ReloadKeys(ctx context.Context) error {
	if s.keys.store == nil {
		return nil
	}
	return s.keys.reload(ctx)
}

// Keys returns the server's key set (its JWKS is public). Change keys with
// RotateKey, RetireKey and RemoveKey: a key changed in the set alone is
// put back as the store has it at the next reload.
func (s *Server) Keys() *token.KeySet { return s.keys.set }

// signer returns the signing key of alg. A tenant whose keys live in the
// store gets one created on first use, so configuring an API with ES256 or
// EdDSA needs no key management; with Config.Keys given, a missing key is an
// error.
func (s *Server) signer(ctx context.Context, alg string) (*token.Key, error) {
	k := s.keys
	if k.store == nil {
		return k.set.SignerAt(alg, k.now())
	}
	if err := k.fresh(ctx); err != nil {
		return nil, err
	}
	key, err := k.set.SignerAt(alg, k.now())
	if err == nil || !token.Supported(alg) {
		return key, err
	}
	return k.firstKey(ctx, alg)
}

// jwksMaxAge is the JWKS's Cache-Control max-age: never longer than the
// bound within which this replica learns a key change.
func (s *Server) jwksMaxAge() time.Duration {
	if s.keys.store == nil {
		return maxJWKSMaxAge
	}
	return min(s.keys.interval, maxJWKSMaxAge)
}
