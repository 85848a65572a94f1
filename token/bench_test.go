package token_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/scopekit/scopekit/token"
)

// The Raw* benchmarks are the floor: the signature primitive alone over a
// token-sized input. Sign and Verify are measured beside them in one run.

var benchInput = make([]byte, 400)

func BenchmarkRawSign(b *testing.B) {
	d := sha256.Sum256(benchInput)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	rk.Precompute()
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edk, _ := ed25519.GenerateKey(rand.Reader)
	b.Run("RS256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = rsa.SignPKCS1v15(nil, rk, crypto.SHA256, d[:])
		}
	})
	b.Run("ES256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _, _ = ecdsa.Sign(rand.Reader, ek, d[:])
		}
	})
	b.Run("EdDSA", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = ed25519.Sign(edk, benchInput)
		}
	})
}

func BenchmarkRawVerify(b *testing.B) {
	d := sha256.Sum256(benchInput)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsig, _ := rsa.SignPKCS1v15(nil, rk, crypto.SHA256, d[:])
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	er, es, _ := ecdsa.Sign(rand.Reader, ek, d[:])
	edpub, edk, _ := ed25519.GenerateKey(rand.Reader)
	edsig := ed25519.Sign(edk, benchInput)
	b.Run("RS256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = rsa.VerifyPKCS1v15(&rk.PublicKey, crypto.SHA256, d[:], rsig)
		}
	})
	b.Run("ES256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = ecdsa.Verify(&ek.PublicKey, d[:], er, es)
		}
	})
	b.Run("EdDSA", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = ed25519.Verify(edpub, benchInput, edsig)
		}
	})
}

func benchClaims() *token.AccessToken {
	now := time.Now()
	return &token.AccessToken{Issuer: iss, Subject: "svc@clients", Audience: []string{aud}, ClientID: "svc",
		AuthorizedParty: "svc", Scope: "read:users write:users", GrantType: "client-credentials",
		JTI: "0123456789abcdefghijkl", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
}

func BenchmarkAppendJSON(b *testing.B) {
	at := benchClaims()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = at.AppendJSON(buf[:0])
	}
}

func BenchmarkSign(b *testing.B) {
	payload, _ := benchClaims().AppendJSON(nil)
	for _, alg := range []string{token.RS256, token.ES256, token.EdDSA} {
		k := genKey(b, alg)
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = k.Sign(token.TypeAccessToken, payload)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	payload, _ := benchClaims().AppendJSON(nil)
	ctx := context.Background()
	for _, alg := range []string{token.RS256, token.ES256, token.EdDSA} {
		k := genKey(b, alg)
		raw, _ := k.Sign(token.TypeAccessToken, payload)
		v := verifier(token.NewKeySet(k), alg)
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
