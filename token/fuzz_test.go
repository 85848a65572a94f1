package token_test

import (
	"context"
	"testing"

	"github.com/scopekit/scopekit/token"
)

func FuzzVerify(f *testing.F) {
	k, err := token.GenerateKey(token.ES256)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := k.Sign(token.TypeAccessToken, claims(nil))
	for _, seed := range []string{good, "", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", good + "x"} {
		f.Add(seed)
	}
	v := verifier(token.NewKeySet(k), token.ES256)
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := v.Verify(context.Background(), raw)
		if err == nil && (c == nil || c.Issuer != iss) {
			t.Fatalf("accepted %q with claims %+v", raw, c)
		}
	})
}

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
