package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scopekit/scopekit/token"
)

// claimSet is the claim set every implementation signs: a client-credentials
// access token for one API with two scopes.
func claimSet() []byte {
	now := time.Now()
	at := token.AccessToken{Issuer: "https://auth.example.com/", Subject: "svc@clients", Audience: []string{"https://api.example.com"},
		ClientID: "svc", AuthorizedParty: "svc", Scope: "read write", GrantType: "client-credentials",
		JTI: "0123456789abcdefghijkl", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	b, _ := at.AppendJSON(nil)
	return b
}

// signingInput is a signing input of a token's size: an 80-byte header
// and the claim set.
func signingInput() []byte { return []byte(string(make([]byte, 80)) + "." + string(claimSet())) }

// rawSign signs the signing input with the bare primitive: SHA-256 and
// RSA PKCS#1 v1.5, ECDSA P-256, or Ed25519 over the input.
func rawSign(k *benchKey, in []byte) []byte {
	switch p := k.Priv.(type) {
	case ed25519.PrivateKey:
		return ed25519.Sign(p, in)
	case *ecdsa.PrivateKey:
		d := sha256.Sum256(in)
		r, s, _ := ecdsa.Sign(rand.Reader, p, d[:])
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	case *rsa.PrivateKey:
		d := sha256.Sum256(in)
		sig, _ := rsa.SignPKCS1v15(nil, p, crypto.SHA256, d[:])
		return sig
	}
	return nil
}

func rawVerify(k *benchKey, in, sig []byte) bool {
	switch p := k.Pub.(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(p, in, sig)
	case *ecdsa.PublicKey:
		d := sha256.Sum256(in)
		return ecdsa.Verify(p, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case *rsa.PublicKey:
		d := sha256.Sum256(in)
		return rsa.VerifyPKCS1v15(p, crypto.SHA256, d[:], sig) == nil
	}
	return false
}

// BenchmarkSign: the primitive, then go-jose v4, then scopekit's token.Key.
func BenchmarkSign(b *testing.B) {
	payload := claimSet()
	in := signingInput()
	for _, alg := range algs {
		k := keyFor(b, alg)
		b.Run(alg+"/primitive", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rawSign(k, in)
			}
		})
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: k.Priv},
			(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", k.Key.ID()))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(alg+"/go-jose", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				jws, err := signer.Sign(payload)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := jws.CompactSerialize(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/scopekit", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Key.Sign(token.TypeAccessToken, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchPrimitiveVerify adds the bare verification of raw's signature.
func benchPrimitiveVerify(b *testing.B, alg, raw string) {
	k := keyFor(b, alg)
	sig, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		b.Fatal(err)
	}
	rawSig := sig.Signatures[0].Signature
	in := signingInputOf(raw)
	b.Run(alg+"/primitive", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !rawVerify(k, in, rawSig) {
				b.Fatal("signature")
			}
		}
	})
}

// benchGoJoseVerify adds go-jose v4's parsing and verification of raw.
func benchGoJoseVerify(b *testing.B, alg, raw string) {
	k := keyFor(b, alg)
	allowed := []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)}
	b.Run(alg+"/go-jose", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			jws, err := jose.ParseSignedCompact(raw, allowed)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := jws.Verify(k.Pub); err != nil {
				b.Fatal(err)
			}
		}
	})
}
