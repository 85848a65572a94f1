package token

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// KeyWrapper encrypts private signing keys at rest (envelope encryption):
// the store holds only what Wrap returns. aad is authenticated, not
// encrypted: Unwrap must fail unless it is the aad given to Wrap, which binds
// a ciphertext to its record. keyID names the wrapping key used, so that
// Unwrap finds it after the wrapping key is rotated. A KMS plugs in here:
// Wrap calls its Encrypt with aad as the encryption context, Unwrap its
// Decrypt. Implementations must be safe for concurrent use.
type KeyWrapper interface {
	// Wrap encrypts plaintext under the current wrapping key.
	Wrap(ctx context.Context, plaintext, aad []byte) (ciphertext []byte, keyID string, err error)
	// Unwrap decrypts a ciphertext of Wrap under the wrapping key keyID.
	Unwrap(ctx context.Context, ciphertext []byte, keyID string, aad []byte) ([]byte, error)
}

// ErrUnwrap is returned when a wrapped key cannot be decrypted: an unknown
// wrapping key, a wrong key, or a ciphertext or aad that was changed.
var ErrUnwrap = errors.New("token: cannot unwrap the key")

// AESKeyWrapper is the built-in KeyWrapper: AES-256-GCM under keys the host
// provides, with a random 96-bit nonce per wrap. It wraps under the current
// key and unwraps under it or any older key.
type AESKeyWrapper struct {
	current string
	aeads   map[string]cipher.AEAD
}

// NewAESKeyWrapper returns a wrapper that wraps under current and unwraps
// under current or any of older. Each key is 32 random bytes (AES-256);
// keep older keys until RewrapKeys has re-wrapped every stored key under
// current. A key's id is a hash of it, so the same key always has one id.
func NewAESKeyWrapper(current []byte, older ...[]byte) (*AESKeyWrapper, error) {
	w := &AESKeyWrapper{aeads: map[string]cipher.AEAD{}}
	for i, k := range append([][]byte{current}, older...) {
		if len(k) != 32 {
			return nil, fmt.Errorf("token: wrapping key %d has %d bytes, want 32 (AES-256)", i, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(append([]byte("scopekit wrapping key id\x00"), k...))
		id := base64.RawURLEncoding.EncodeToString(sum[:12])
		if i == 0 {
			w.current = id
		}
		w.aeads[id] = aead
	}
	return w, nil
}

// Wrap implements KeyWrapper: nonce followed by the GCM ciphertext.
func (w *AESKeyWrapper) Wrap(_ context.Context, plaintext, aad []byte) ([]byte, string, error) {
	aead := w.aeads[w.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", err
	}
	return aead.Seal(nonce, nonce, plaintext, aad), w.current, nil
}

// Unwrap implements KeyWrapper.
func (w *AESKeyWrapper) Unwrap(_ context.Context, ciphertext []byte, keyID string, aad []byte) ([]byte, error) {
	aead, ok := w.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w: unknown wrapping key %q", ErrUnwrap, keyID)
	}
	if len(ciphertext) < aead.NonceSize() {
		return nil, ErrUnwrap
	}
	n := aead.NonceSize()
	pt, err := aead.Open(nil, ciphertext[:n], ciphertext[n:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: wrong wrapping key %q or altered record", ErrUnwrap, keyID)
	}
	return pt, nil
}

// wrappedJWK is the stored form of a wrapped private JWK: which wrapping key
// and the ciphertext, nothing of the key in clear.
type wrappedJWK struct {
	Wrapped    string `json:"scopekit_wrapped"` // format version, "v1"
	WrapKeyID  string `json:"wrap_kid"`
	Ciphertext []byte `json:"ciphertext"`
}

const wrapFormat = "v1"

// WrapJWK encrypts a private JWK (from Key.MarshalJWK) with w for storage,
// binding it to aad.
func WrapJWK(ctx context.Context, w KeyWrapper, jwk, aad []byte) ([]byte, error) {
	ct, id, err := w.Wrap(ctx, jwk, aad)
	if err != nil {
		return nil, err
	}
	return json.Marshal(wrappedJWK{Wrapped: wrapFormat, WrapKeyID: id, Ciphertext: ct})
}

// IsWrappedJWK reports whether stored holds a wrapped JWK rather than a
// JWK in clear.
func IsWrappedJWK(stored []byte) bool {
	var e wrappedJWK
	return bytes.Contains(stored, []byte(`"scopekit_wrapped"`)) && json.Unmarshal(stored, &e) == nil && e.Wrapped != ""
}

// UnwrapJWK returns the private JWK of a stored record: decrypted with w when
// it was wrapped (with the same aad), as is when it is a JWK in clear.
// A wrapped record with w nil is an error.
func UnwrapJWK(ctx context.Context, w KeyWrapper, stored, aad []byte) ([]byte, error) {
	if !IsWrappedJWK(stored) {
		return stored, nil
	}
	var e wrappedJWK
	if err := json.Unmarshal(stored, &e); err != nil {
		return nil, err
	}
	if e.Wrapped != wrapFormat {
		return nil, fmt.Errorf("token: unknown wrapped key format %q", e.Wrapped)
	}
	if w == nil {
		return nil, fmt.Errorf("%w: the key is wrapped and no key wrapper is configured", ErrUnwrap)
	}
	return w.Unwrap(ctx, e.Ciphertext, e.WrapKeyID, aad)
}
