package token

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"
)

// storedRSAKey returns an RS256 key as the store gives it back: marshalled
// to its JWK and parsed again, optionally without the CRT values (dp, dq,
// qi), which RFC 7518 §6.3.2 makes optional.
func storedRSAKey(t testing.TB, dropCRT bool) (*Key, *rsa.PrivateKey) {
	k, err := GenerateKey(RS256)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := k.MarshalJWK()
	if err != nil {
		t.Fatal(err)
	}
	if dropCRT {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "dp")
		delete(m, "dq")
		delete(m, "qi")
		if raw, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
	back, err := ParseJWK(raw)
	if err != nil {
		t.Fatal(err)
	}
	return back, back.priv.(*rsa.PrivateKey)
}

// TestStoredRSAKeyKeepsCRT: an RSA key that went through its JWK has its
// CRT values, given or recomputed, so that signing takes the fast CRT path
// instead of recomputing the key's values on every signature.
func TestStoredRSAKeyKeepsCRT(t *testing.T) {
	for _, drop := range []bool{false, true} {
		_, priv := storedRSAKey(t, drop)
		pc := priv.Precomputed
		if pc.Dp == nil || pc.Dq == nil || pc.Qinv == nil {
			t.Fatalf("dropCRT=%v: Dp, Dq or Qinv missing after the JWK round trip", drop)
		}
		p, q := priv.Primes[0], priv.Primes[1]
		dp := new(big.Int).Mod(priv.D, new(big.Int).Sub(p, big.NewInt(1)))
		if pc.Dp.Cmp(dp) != 0 || pc.Qinv.Cmp(new(big.Int).ModInverse(q, p)) != 0 {
			t.Fatalf("dropCRT=%v: CRT values do not belong to the key", drop)
		}
	}
}

// BenchmarkStoredRSASign: scopekit's Sign of a stored RS256 key (JWK round
// trip) against the bare rsa.SignPKCS1v15 of the same key over the same
// signing input: Sign must cost the primitive and nothing more.
func BenchmarkStoredRSASign(b *testing.B) {
	k, priv := storedRSAKey(b, true)
	payload := make([]byte, 400)
	for i := range payload {
		payload[i] = 'a'
	}
	input := k.header(TypeAccessToken) + "." + base64.RawURLEncoding.EncodeToString(payload)
	b.Run("primitive", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d := sha256.Sum256([]byte(input))
			if _, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, d[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Key.Sign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.Sign(TypeAccessToken, payload); err != nil {
				b.Fatal(err)
			}
		}
	})
}
