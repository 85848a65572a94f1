package bench

import (
	"crypto"
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
