package token_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scopekit/scopekit/token"
)

// The differential tests hold token.Verifier to go-jose: every token the
// hand-written verifier accepts, go-jose's jose.ParseSigned (with the same
// algorithm allow-list) and signature check with the same key accept too,
// with the same payload. Where the verifier is stricter on purpose, the
// difference is an explicit expectation in TestVerifierStricterThanGoJose.

// diffNow is the clock of the differential tests.
var diffNow = time.Unix(1_700_000_000, 0)

// diffKey is a key the tests sign arbitrary inputs with, and its
// token.Key for the verifier's key set.
type diffKey struct {
	priv crypto.Signer
	key  *token.Key
}

func newDiffKey(tb testing.TB, kid, alg string) diffKey {
	tb.Helper()
	var priv crypto.Signer
	switch alg {
	case token.EdDSA:
		_, priv, _ = ed25519.GenerateKey(rand.Reader)
	case token.ES256:
		priv, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		tb.Fatalf("no differential key for %s", alg)
	}
	jwk, err := json.Marshal(jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: alg, Use: "sig"})
	if err != nil {
		tb.Fatal(err)
	}
	k, err := token.ParseJWK(jwk)
	if err != nil {
		tb.Fatal(err)
	}
	return diffKey{priv, k}
}

// sign signs the JWS signing input with the key, whatever the header says.
func (k diffKey) sign(tb testing.TB, input string) string {
	var sig []byte
	switch p := k.priv.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(p, []byte(input))
	case *ecdsa.PrivateKey:
		d := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, p, d[:])
		if err != nil {
			tb.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// diffFixture is two keys, the verifier over both and go-jose's allow-list.
type diffFixture struct {
	keys []diffKey
	v    *token.Verifier
}

func newDiffFixture(tb testing.TB) *diffFixture {
	keys := []diffKey{newDiffKey(tb, "ed", token.EdDSA), newDiffKey(tb, "ec", token.ES256)}
	v := verifier(token.NewKeySet(keys[0].key, keys[1].key), token.EdDSA, token.ES256)
	v.Now = func() time.Time { return diffNow }
	return &diffFixture{keys: keys, v: v}
}

var joseAlgs = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256}

// goJose verifies raw as go-jose does with the key: ParseSigned with the
// allow-list, then the signature. It returns the verified payload.
func goJose(raw string, k diffKey) ([]byte, error) {
	//lint:ignore SA1019 ParseSigned takes both serializations: the differential shows that the verifier takes the compact one only.
	jws, err := jose.ParseSigned(raw, joseAlgs)
	if err != nil {
		return nil, err
	}
	return jws.Verify(k.key.Public())
}

// check runs both verifiers on raw and fails the test when token.Verifier
// accepts what go-jose refuses, or reads other claims than go-jose's
// payload holds. It reports whether token.Verifier accepted.
func (fx *diffFixture) check(t *testing.T, raw string) bool {
	t.Helper()
	c, err := fx.v.Verify(context.Background(), raw)
	if err != nil {
		if !errors.Is(err, token.ErrInvalid) {
			t.Fatalf("Verify(%q): %v is no token defect", raw, err)
		}
		return false
	}
	var k diffKey
	for _, dk := range fx.keys {
		if dk.key.ID() == c.KeyID {
			k = dk
		}
	}
	if k.key == nil || c.Algorithm != k.key.Alg() {
		t.Fatalf("accepted %q under kid %q alg %q", raw, c.KeyID, c.Algorithm)
	}
	payload, err := goJose(raw, k)
	if err != nil {
		t.Fatalf("token.Verifier accepts %q, go-jose refuses it: %v", raw, err)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var want map[string]any
	if err := dec.Decode(&want); err != nil || !reflect.DeepEqual(want, c.Raw) {
		t.Fatalf("claims %v, go-jose's payload %q (%v)", c.Raw, payload, err)
	}
	if c.Issuer != iss || !slices.Contains(c.Audience, aud) || !diffNow.Before(c.ExpiresAt.Add(time.Minute)) ||
		c.Subject == "" || c.ClientID == "" || c.JTI == "" || c.IssuedAt.IsZero() {
		t.Fatalf("accepted claims %+v", c)
	}
	return true
}

func diffClaims(mod func(map[string]any)) []byte {
	c := map[string]any{"iss": iss, "sub": "u1", "aud": aud, "client_id": "app", "scope": "read",
		"jti": "j", "iat": diffNow.Unix(), "exp": diffNow.Add(time.Hour).Unix()}
	if mod != nil {
		mod(c)
	}
	b, _ := json.Marshal(c)
	return b
}

// FuzzVerify signs what the fuzzer writes: it mutates the header and the
// claims, and the target signs them with a real key (which one is the
// fuzzer's choice too), so that the header, claim and time checks are
// reached rather than the signature check refusing everything. Every
// accepted token holds the claims the verifier requires and is accepted by
// go-jose with the same payload.
func FuzzVerify(f *testing.F) {
	fx := newDiffFixture(f)
	headers := []string{
		`{"alg":"EdDSA","kid":"ed","typ":"at+jwt"}`, `{"alg":"ES256","kid":"ec","typ":"application/at+jwt"}`,
		`{"alg":"ES256","kid":"ed","typ":"at+jwt"}`, `{"alg":"EdDSA","kid":"ed","typ":"at+jwt","crit":["exp"],"exp":1}`,
		`{"alg":"EdDSA","kid":"ed","typ":"at+jwt","b64":false}`, `{"ALG":"EdDSA","KID":"ed","TYP":"at+jwt"}`,
		`{"alg":"EdDSA","kid":"ed","typ":"at+jwt","alg":"none"}`, `{"alg":"none","kid":"ed","alg":"EdDSA","typ":"at+jwt"}`,
		`{"alg":"EdDSA","kid":"ed","typ":"JWT"}`, `{"alg":"HS256","kid":"ed","typ":"at+jwt"}`, `{"alg":"EdDSA","kid":"ed"} `,
		`{"alg":"EdDSA","kid":"ed","typ":"at+jwt","jwk":{"kty":"OKP"}}`, `{"alg":"EdDSA","kid":"ed","typ":"at+jwt","crit":null}`,
	}
	bodies := [][]byte{
		diffClaims(nil), diffClaims(func(c map[string]any) { c["aud"] = []string{"x", aud} }),
		diffClaims(func(c map[string]any) { c["exp"] = diffNow.Add(-time.Hour).Unix() }),
		diffClaims(func(c map[string]any) { c["nbf"] = 1.5e9; c["iat"] = "1" }),
		diffClaims(func(c map[string]any) { delete(c, "jti") }), []byte(`{"iss":"x","iss":"` + iss + `"}`),
		append(diffClaims(nil), ' '), append(diffClaims(nil), []byte(" {}")...), []byte(`[]`), []byte(`null`),
	}
	for i, h := range headers {
		f.Add([]byte(h), bodies[i%len(bodies)], uint8(i))
	}
	for i, b := range bodies {
		f.Add([]byte(headers[i%2]), b, uint8(i))
	}
	// Member names are case-sensitive: encoding/json's struct decoding read
	// "ALG" as alg, which go-jose does not.
	f.Add([]byte(`{"ALG":"EdDSA","KID":"ed","TYP":"at+jwt"}`), bodies[0], uint8(0))
	f.Add([]byte(`{"alg":"EdDSA","Kid":"ed","kid":"ed","typ":"at+jwt","Alg":"ES256"}`), bodies[0], uint8(0))
	f.Add([]byte(`{"alg":"EdDSA","kid":"ed","typ":"at+jwt","nonce":1}`), bodies[0], uint8(0))
	f.Fuzz(func(t *testing.T, header, claims []byte, which uint8) {
		k := fx.keys[int(which)%len(fx.keys)]
		raw := k.sign(t, b64(header)+"."+b64(claims))
		if fx.check(t, raw) {
			// What was signed is what was verified: a flipped signature
			// byte is refused.
			tampered := []byte(raw)
			tampered[len(tampered)-2] ^= 'A' ^ 'B'
			if _, err := fx.v.Verify(context.Background(), string(tampered)); err == nil {
				t.Fatalf("accepted %q with a changed signature", tampered)
			}
		}
	})
}

// FuzzVerifyRaw feeds whole tokens, for the splitting and decoding that
// precede the signature check: a mutated token that the verifier accepts is
// accepted by go-jose too.
func FuzzVerifyRaw(f *testing.F) {
	fx := newDiffFixture(f)
	good := fx.keys[0].sign(f, b64([]byte(`{"alg":"EdDSA","kid":"ed","typ":"at+jwt"}`))+"."+b64(diffClaims(nil)))
	for _, seed := range []string{good, "", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", good + "x", good + "=", "." + good, strings.Replace(good, ".", "..", 1)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		fx.check(t, raw)
	})
}

// TestVerifierStricterThanGoJose lists what go-jose accepts and
// token.Verifier refuses on purpose: every accepted input of the verifier
// is a compact JWS access token whose every protected header is one it
// understands.
func TestVerifierStricterThanGoJose(t *testing.T) {
	fx := newDiffFixture(t)
	ed := fx.keys[0]
	hdr := func(h string) string { return b64([]byte(h)) + "." + b64(diffClaims(nil)) }
	joseSigned := func(opts *jose.SignerOptions, payload []byte, full bool) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: ed.priv, KeyID: "ed"}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := s.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		if full {
			return obj.FullSerialize()
		}
		raw, err := obj.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	typed := (&jose.SignerOptions{}).WithType("at+jwt")
	edJWK, err := json.Marshal(ed.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		raw  string
		want error
	}{
		// A JWS JSON serialization (RFC 7515 §7.2) is no JWT (RFC 7519 §7.2).
		"JSONSerialization": {joseSigned(typed, diffClaims(nil), true), token.ErrMalformed},
		// RFC 7515 §4.1.11: a critical header the verifier does not
		// implement must be refused; it implements none, go-jose b64.
		"Crit": {ed.sign(t, hdr(`{"alg":"EdDSA","kid":"ed","typ":"at+jwt","crit":["b64"],"b64":true}`)), token.ErrMalformed},
		// RFC 7797: an unencoded payload changes what was signed.
		"B64False": {joseSigned(typed.WithBase64(false), []byte(`{"a":1}`), false), token.ErrMalformed},
		// RFC 8725 §3.10: the key is found by kid alone, never taken from
		// the token (go-jose parses the jwk, then verifies with the key
		// given).
		"EmbeddedKey": {ed.sign(t, hdr(`{"alg":"EdDSA","kid":"ed","typ":"at+jwt","jwk":`+string(edJWK)+`}`)), token.ErrMalformed},
		"KeyURL":      {ed.sign(t, hdr(`{"alg":"EdDSA","kid":"ed","typ":"at+jwt","jku":"https://evil.example/jwks"}`)), token.ErrMalformed},
		// The key is found by kid alone, never guessed.
		"NoKid": {ed.sign(t, hdr(`{"alg":"EdDSA","typ":"at+jwt"}`)), token.ErrMalformed},
		// RFC 8725 §3.11: a token of another type is refused.
		"OtherType": {ed.sign(t, hdr(`{"alg":"EdDSA","kid":"ed","typ":"JWT"}`)), token.ErrType},
		// RFC 8725 §3.1: the key's algorithm decides, not the header's.
		"KeyOfOtherAlg": {fx.keys[1].sign(t, hdr(`{"alg":"EdDSA","kid":"ec","typ":"at+jwt"}`)), token.ErrAlgorithm},
		// A JWS carries no claims checks; a JWT access token does.
		"Expired":   {ed.sign(t, b64([]byte(`{"alg":"EdDSA","kid":"ed","typ":"at+jwt"}`))+"."+b64(diffClaims(func(c map[string]any) { c["exp"] = diffNow.Add(-time.Hour).Unix() }))), token.ErrExpired},
		"NoSubject": {ed.sign(t, b64([]byte(`{"alg":"EdDSA","kid":"ed","typ":"at+jwt"}`))+"."+b64(diffClaims(func(c map[string]any) { delete(c, "sub") }))), token.ErrMissingClaim},
		// Claims that are no JSON object are no claim set.
		"PayloadNotObject": {ed.sign(t, b64([]byte(`{"alg":"EdDSA","kid":"ed","typ":"at+jwt"}`))+"."+b64([]byte(`"x"`))), token.ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			var k diffKey = ed
			if name == "KeyOfOtherAlg" {
				k = fx.keys[1]
			}
			if _, err := goJose(tc.raw, k); err != nil && name != "KeyOfOtherAlg" {
				t.Fatalf("go-jose refuses it too (%v): the difference is gone, drop the case", err)
			}
			if _, err := fx.v.Verify(context.Background(), tc.raw); !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}

// BenchmarkVerifyVsGoJose measures one verification of the same EdDSA and
// ES256 access tokens by token.Verifier and by go-jose (ParseSigned, the
// signature, then the claims decoded into a map, the least a JWT needs).
func BenchmarkVerifyVsGoJose(b *testing.B) {
	fx := newDiffFixture(b)
	for _, k := range fx.keys {
		raw := k.sign(b, b64([]byte(`{"alg":"`+k.key.Alg()+`","kid":"`+k.key.ID()+`","typ":"at+jwt"}`))+"."+b64(diffClaims(nil)))
		b.Run(k.key.Alg()+"/token", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := fx.v.Verify(context.Background(), raw); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(k.key.Alg()+"/go-jose", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				payload, err := goJose(raw, k)
				if err != nil {
					b.Fatal(err)
				}
				var c map[string]any
				if err := json.Unmarshal(payload, &c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
