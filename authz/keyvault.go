package authz

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// keyVault turns signing keys into stored records and back: wrapped with
// Config.KeyWrapper when one is configured, in clear otherwise.
type keyVault struct {
	wrapper token.KeyWrapper
	issuer  string
	logger  *slog.Logger
}

// clearKeysWarning logs once per process that keys are stored in clear.
var clearKeysWarning sync.Once

// warnClear logs, once, that keys are stored in clear.
func (v keyVault) warnClear() {
	if v.wrapper != nil {
		return
	}
	clearKeysWarning.Do(func() {
		v.logger.Warn("authz: Config.KeyWrapper is nil: private signing keys are stored in clear (see docs/KEYS.md)")
	})
}

// aad binds a wrapped key to its record: the issuer (the tenant) and kid.
func (v keyVault) aad(kid string) []byte {
	return []byte("scopekit signing key\x00" + v.issuer + "\x00" + kid)
}

// seal returns the stored form of k's private JWK.
func (v keyVault) seal(ctx context.Context, k *token.Key) ([]byte, error) {
	jwk, err := k.MarshalJWK()
	if err != nil || v.wrapper == nil {
		return jwk, err
	}
	return token.WrapJWK(ctx, v.wrapper, jwk, v.aad(k.ID()))
}

// open returns the key of a stored record, wrapped or in clear. Its errors
// name the kid.
func (v keyVault) open(ctx context.Context, r *storage.SigningKey) (*token.Key, error) {
	jwk, err := token.UnwrapJWK(ctx, v.wrapper, r.JWK, v.aad(r.ID))
	if err != nil {
		return nil, fmt.Errorf("authz: stored key %q: %w", r.ID, err)
	}
	k, err := token.ParseJWK(jwk)
	if err != nil {
		return nil, fmt.Errorf("authz: stored key %q: %w", r.ID, err)
	}
	if k.ID() != r.ID {
		return nil, fmt.Errorf("authz: stored key %q holds the key %q", r.ID, k.ID())
	}
	return k, nil
}

// rewrap re-wraps a stored record's JWK under the current wrapping key: a
// signing key, or the retry secret (a symmetric JWK, never parsed here).
func (v keyVault) rewrap(ctx context.Context, r *storage.SigningKey) error {
	if isRetrySecret(r) {
		jwk, err := token.UnwrapJWK(ctx, v.wrapper, r.JWK, v.aad(r.ID))
		if err != nil {
			return fmt.Errorf("authz: stored retry secret: %w", err)
		}
		r.JWK, err = token.WrapJWK(ctx, v.wrapper, jwk, v.aad(r.ID))
		return err
	}
	k, err := v.open(ctx, r)
	if err != nil {
		return err
	}
	r.JWK, err = v.seal(ctx, k)
	return err
}

// RewrapKeys re-wraps every signing key of the store under the current
// wrapping key of Config.KeyWrapper, keys stored in clear included, and
// returns how many it rewrote. Run it after rotating the wrapping key (the
// new key current, the old one still given for unwrapping); once it
// returns, the old wrapping key can be dropped. It fails, changing nothing
// more, at the first key it cannot unwrap. Only the stored JWK changes; run
// it when no other replica retires keys, as a retirement written between
// its read and write of a record would be overwritten.
func (s *Server) RewrapKeys(ctx context.Context) (int, error) {
	if s.keys.vault.wrapper == nil {
		return 0, fmt.Errorf("authz: RewrapKeys needs Config.KeyWrapper")
	}
	if s.keys.store == nil {
		return 0, fmt.Errorf("authz: RewrapKeys needs keys kept in the store (Config.Keys nil)")
	}
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	recs, err := storage.All(ctx, s.store.Keys(), "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range recs {
		if err := s.keys.vault.rewrap(ctx, r); err != nil {
			return n, err
		}
		if err := s.store.Keys().Update(ctx, r); err != nil {
			return n, fmt.Errorf("authz: rewrap key %q: %w", r.ID, err)
		}
		n++
	}
	return n, nil
}
