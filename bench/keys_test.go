package bench

import (
	"crypto"
	"crypto/rsa"
	"testing"

	"github.com/scopekit/scopekit/token"
)

// algs are the algorithms compared; every implementation signs with the
// same key of each.
var algs = []string{token.RS256, token.ES256, token.EdDSA}

// benchKey is one key in the forms each implementation wants.
type benchKey struct {
	alg  string
	key  *token.Key
	priv crypto.Signer
	pub  crypto.PublicKey
}

var keyCache = map[string]*benchKey{}

func keyFor(tb testing.TB, alg string) *benchKey {
	if k, ok := keyCache[alg]; ok {
		return k
	}
	k, err := token.GenerateKey(alg)
	if err != nil {
		tb.Fatal(err)
	}
	priv := privateOf(tb, k)
	if rk, ok := priv.(*rsa.PrivateKey); ok {
		// A key decoded from a JWK lacks the precomputed CRT values the
		// standard library's fast path needs; scopekit precomputes its own
		// copy, and so must the primitive and every peer that signs with
		// this one, or their RS256 rows would measure a slower key.
		rk.Precompute()
	}
	bk := &benchKey{alg: alg, key: k, priv: priv, pub: priv.Public()}
	keyCache[alg] = bk
	return bk
}

// privateOf extracts the crypto key of a token.Key through its JWK.
func privateOf(tb testing.TB, k *token.Key) crypto.Signer {
	jwk, err := k.MarshalJWK()
	if err != nil {
		tb.Fatal(err)
	}
	var j joseJWK
	if err := j.UnmarshalJSON(jwk); err != nil {
		tb.Fatal(err)
	}
	return j.Key.(crypto.Signer)
}
