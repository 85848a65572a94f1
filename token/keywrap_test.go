package token_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/scopekit/scopekit/token"
)

// TestAESKeyWrapper: a wrapped JWK holds no key in clear, unwraps only with
// its aad and a wrapping key of the wrapper, and older keys still unwrap.
func TestAESKeyWrapper(t *testing.T) {
	ctx := context.Background()
	if _, err := token.NewAESKeyWrapper(make([]byte, 16)); err == nil {
		t.Fatal("a 128-bit wrapping key was accepted")
	}
	k, err := token.GenerateKey(token.ES256)
	if err != nil {
		t.Fatal(err)
	}
	jwk, _ := k.MarshalJWK()
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	w1, _ := token.NewAESKeyWrapper(oldKey)
	stored, err := token.WrapJWK(ctx, w1, jwk, []byte("kid-a"))
	if err != nil || bytes.Contains(stored, []byte(`"d"`)) || !token.IsWrappedJWK(stored) || token.IsWrappedJWK(jwk) {
		t.Fatalf("WrapJWK = %s, %v", stored, err)
	}
	w2, _ := token.NewAESKeyWrapper(newKey, oldKey)
	if got, err := token.UnwrapJWK(ctx, w2, stored, []byte("kid-a")); err != nil || !bytes.Equal(got, jwk) {
		t.Fatalf("older key: %v", err)
	}
	if got, err := token.UnwrapJWK(ctx, nil, jwk, nil); err != nil || !bytes.Equal(got, jwk) {
		t.Fatalf("a JWK in clear: %v", err)
	}
	w3, _ := token.NewAESKeyWrapper(newKey)
	for name, tc := range map[string]struct {
		w   token.KeyWrapper
		aad string
	}{"other aad": {w1, "kid-b"}, "unknown wrapping key": {w3, "kid-a"}, "no wrapper": {nil, "kid-a"}} {
		if _, err := token.UnwrapJWK(ctx, tc.w, stored, []byte(tc.aad)); !errors.Is(err, token.ErrUnwrap) {
			t.Errorf("%s: err = %v, want ErrUnwrap", name, err)
		}
	}
}
