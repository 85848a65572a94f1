package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
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
	pem  []byte // PKCS#8 or PKCS#1 PEM for go-oauth2
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
	var der []byte
	var typ string
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		der, typ = x509.MarshalPKCS1PrivateKey(p), "RSA PRIVATE KEY"
	case *ecdsa.PrivateKey:
		der, err = x509.MarshalECPrivateKey(p)
		typ = "EC PRIVATE KEY"
	case ed25519.PrivateKey:
		der, err = x509.MarshalPKCS8PrivateKey(p)
		typ = "PRIVATE KEY"
	}
	if err != nil {
		tb.Fatal(err)
	}
	bk.pem = pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
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
