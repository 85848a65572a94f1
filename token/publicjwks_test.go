package token_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scopekit/scopekit/token"
)

func TestParsePublicJWKS(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	jwk := func(k jose.JSONWebKey) string {
		b, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	good := jwk(jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "a", Algorithm: "ES256"})
	set := func(keys ...string) []byte { return []byte(`{"keys":[` + strings.Join(keys, ",") + `]}`) }
	if keys, err := token.ParsePublicJWKS(set(good)); err != nil || len(keys) != 1 || keys[0].KeyID != "a" {
		t.Fatalf("good set: %v %v", keys, err)
	}
	withD := strings.Replace(good, `"kty"`, `"d":"AAAA","kty"`, 1)
	many := make([]string, token.MaxPublicJWKs+1)
	for i := range many {
		many[i] = jwk(jose.JSONWebKey{Key: &ec.PublicKey, KeyID: string(rune('a' + i)), Algorithm: "ES256"})
	}
	for name, data := range map[string][]byte{
		"private key":             set(jwk(jose.JSONWebKey{Key: ec, KeyID: "p", Algorithm: "ES256"})),
		"private member":          set(withD),
		"symmetric":               set(`{"kty":"oct","k":"c2VjcmV0","kid":"s","alg":"HS256"}`),
		"no kid":                  set(jwk(jose.JSONWebKey{Key: &ec.PublicKey, Algorithm: "ES256"})),
		"no alg":                  set(jwk(jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "a"})),
		"HMAC alg":                set(jwk(jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "a", Algorithm: "HS256"})),
		"alg of another key type": set(jwk(jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "a", Algorithm: "RS256"})),
		"short RSA":               set(jwk(jose.JSONWebKey{Key: &small.PublicKey, KeyID: "r", Algorithm: "RS256"})),
		"encryption key":          set(jwk(jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "a", Algorithm: "ES256", Use: "enc"})),
		"duplicate kid":           set(good, good),
		"no keys":                 set(),
		"too many":                set(many...),
		"too large":               []byte(`{"keys":[],"x":"` + strings.Repeat("x", token.MaxPublicJWKSBytes) + `"}`),
		"not JSON":                []byte(`{`),
	} {
		if _, err := token.ParsePublicJWKS(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
