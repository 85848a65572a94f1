package token_test

import (
	"testing"

	"github.com/scopekit/scopekit/token"
)

func FuzzParseJWK(f *testing.F) {
	k, err := token.GenerateKey(token.EdDSA)
	if err != nil {
		f.Fatal(err)
	}
	jwk, _ := k.MarshalJWK()
	f.Add(jwk)
	f.Add([]byte(`{"kty":"RSA"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if k, err := token.ParseJWK(data); err == nil && !token.Supported(k.Alg()) {
			t.Fatalf("loaded a key of unsupported alg %q", k.Alg())
		}
	})
}
