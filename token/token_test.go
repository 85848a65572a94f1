package token_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scopekit/scopekit/token"
)

var algs = []string{token.RS256, token.PS256, token.ES256, token.EdDSA}

const iss, aud = "https://auth.example.com/", "https://api.example.com"

func genKey(t testing.TB, alg string) *token.Key {
	t.Helper()
	k, err := token.GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func claims(mod func(map[string]any)) []byte {
	now := time.Now()
	c := map[string]any{"iss": iss, "sub": "u1", "aud": aud, "client_id": "app", "scope": "read write",
		"jti": "j", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if mod != nil {
		mod(c)
	}
	b, _ := json.Marshal(c)
	return b
}

// countingKeys counts key lookups.
type countingKeys struct {
	token.KeySource
	calls atomic.Int32
}

func (c *countingKeys) VerificationKey(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	c.calls.Add(1)
	return c.KeySource.VerificationKey(ctx, kid)
}

func verifier(set token.KeySource, algs ...string) *token.Verifier {
	return &token.Verifier{Issuer: iss, Audience: aud, Algorithms: algs, Keys: set, Types: []string{token.TypeAccessToken}}
}

func TestSignVerifyEveryAlgorithm(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			k := genKey(t, alg)
			set := token.NewKeySet(k)
			raw, err := k.Sign(token.TypeAccessToken, claims(nil))
			if err != nil {
				t.Fatal(err)
			}
			c, err := verifier(set, alg).Verify(context.Background(), raw)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != "u1" || c.ClientID != "app" || c.Algorithm != alg || c.KeyID != k.ID() || c.Type != "at+jwt" ||
				len(c.Audience) != 1 || c.Audience[0] != aud || strings.Join(c.Scopes(), ",") != "read,write" {
				t.Fatalf("claims %+v", c)
			}
			// The same token under an allow-list without its alg is refused.
			other := token.RS256
			if alg == token.RS256 {
				other = token.ES256
			}
			if _, err := verifier(set, other).Verify(context.Background(), raw); !errors.Is(err, token.ErrAlgorithm) {
				t.Fatalf("alg outside the allow-list: %v", err)
			}
		})
	}
}

func TestJWKRoundTripAndJWKS(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			k := genKey(t, alg)
			jwk, err := k.MarshalJWK()
			if err != nil {
				t.Fatal(err)
			}
			k2, err := token.ParseJWK(jwk)
			if err != nil {
				t.Fatal(err)
			}
			if k2.ID() != k.ID() || k2.Alg() != alg {
				t.Fatalf("id %q alg %q", k2.ID(), k2.Alg())
			}
			raw, _ := k2.Sign(token.TypeAccessToken, claims(nil))
			if _, err := verifier(token.NewKeySet(k), alg).Verify(context.Background(), raw); err != nil {
				t.Fatalf("key reloaded from its JWK signs differently: %v", err)
			}
			pub, _ := json.Marshal(k.Public())
			if _, err := token.ParseJWK(pub); err == nil {
				t.Fatal("a public JWK was accepted as a signing key")
			}
		})
	}
	t.Run("JWKS holds public keys only", func(t *testing.T) {
		set := token.NewKeySet(genKey(t, token.RS256), genKey(t, token.ES256), genKey(t, token.EdDSA))
		var doc struct{ Keys []map[string]any }
		if err := json.Unmarshal(set.JWKS(), &doc); err != nil || len(doc.Keys) != 3 {
			t.Fatalf("%v %d", err, len(doc.Keys))
		}
		for _, k := range doc.Keys {
			for _, p := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := k[p]; ok {
					t.Fatalf("private member %q published", p)
				}
			}
		}
	})
	t.Run("mismatched alg refused", func(t *testing.T) {
		k := genKey(t, token.ES256)
		jwk, _ := k.MarshalJWK()
		bad := strings.Replace(string(jwk), `"ES256"`, `"RS256"`, 1)
		if _, err := token.ParseJWK([]byte(bad)); err == nil {
			t.Fatal("an EC key labelled RS256 was accepted")
		}
	})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestVerifyRefuses(t *testing.T) {
	rs := genKey(t, token.RS256)
	ps := genKey(t, token.PS256)
	set := token.NewKeySet(rs, ps)
	v := verifier(set, token.RS256, token.PS256)
	ctx := context.Background()
	sign := func(k *token.Key, typ string, mod func(map[string]any)) string {
		raw, err := k.Sign(typ, claims(mod))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	withHeader := func(h map[string]any, payload []byte, sig string) string {
		hb, _ := json.Marshal(h)
		return b64(hb) + "." + b64(payload) + "." + sig
	}
	foreign, _ := rsa.GenerateKey(rand.Reader, 2048)
	foreignSigned := func() string {
		hb, _ := json.Marshal(map[string]any{"alg": "RS256", "kid": rs.ID(), "typ": "at+jwt"})
		in := b64(hb) + "." + b64(claims(nil))
		d := sha256.Sum256([]byte(in))
		sig, _ := rsa.SignPKCS1v15(rand.Reader, foreign, crypto.SHA256, d[:])
		return in + "." + b64(sig)
	}
	// A PS256 key's token relabelled RS256: the key's own alg must win.
	relabelled := func() string {
		raw := sign(ps, token.TypeAccessToken, nil)
		parts := strings.Split(raw, ".")
		hb, _ := json.Marshal(map[string]any{"alg": "RS256", "kid": ps.ID(), "typ": "at+jwt"})
		return b64(hb) + "." + parts[1] + "." + parts[2]
	}
	good := sign(rs, token.TypeAccessToken, nil)
	gp := strings.Split(good, ".")
	cases := []struct {
		name string
		raw  string
		want error
	}{
		{"alg none", withHeader(map[string]any{"alg": "none", "kid": rs.ID()}, claims(nil), ""), token.ErrMalformed},
		{"alg NONE", withHeader(map[string]any{"alg": "NONE", "kid": rs.ID()}, claims(nil), "x"), token.ErrAlgorithm},
		{"alg nOnE", withHeader(map[string]any{"alg": "nOnE", "kid": rs.ID()}, claims(nil), "x"), token.ErrAlgorithm},
		{"HS256", withHeader(map[string]any{"alg": "HS256", "kid": rs.ID()}, claims(nil), "x"), token.ErrAlgorithm},
		{"foreign key with our kid", foreignSigned(), token.ErrSignature},
		{"key alg differs from header", relabelled(), token.ErrAlgorithm},
		{"unknown kid", withHeader(map[string]any{"alg": "RS256", "kid": "nope", "typ": "at+jwt"}, claims(nil), gp[2]), token.ErrUnknownKey},
		{"no kid", withHeader(map[string]any{"alg": "RS256"}, claims(nil), gp[2]), token.ErrMalformed},
		{"crit header", withHeader(map[string]any{"alg": "RS256", "kid": rs.ID(), "crit": []string{"exp"}}, claims(nil), gp[2]), token.ErrMalformed},
		{"wrong typ", sign(rs, "JWT", nil), token.ErrType},
		{"wrong aud", sign(rs, token.TypeAccessToken, func(c map[string]any) { c["aud"] = "https://other" }), token.ErrAudience},
		{"aud array without ours", sign(rs, token.TypeAccessToken, func(c map[string]any) { c["aud"] = []string{"a", "b"} }), token.ErrAudience},
		{"wrong iss", sign(rs, token.TypeAccessToken, func(c map[string]any) { c["iss"] = "https://evil/" }), token.ErrIssuer},
		{"expired", sign(rs, token.TypeAccessToken, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), token.ErrExpired},
		{"missing exp", sign(rs, token.TypeAccessToken, func(c map[string]any) { delete(c, "exp") }), token.ErrExpired},
		{"nbf in the future", sign(rs, token.TypeAccessToken, func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() }), token.ErrNotYetValid},
		{"iat in the future", sign(rs, token.TypeAccessToken, func(c map[string]any) { c["iat"] = time.Now().Add(time.Hour).Unix() }), token.ErrNotYetValid},
		{"exp not a number", sign(rs, token.TypeAccessToken, func(c map[string]any) { c["exp"] = "tomorrow" }), token.ErrMalformed},
		{"tampered payload", gp[0] + "." + b64(claims(func(c map[string]any) { c["scope"] = "admin" })) + "." + gp[2], token.ErrSignature},
		{"tampered signature", gp[0] + "." + gp[1] + "." + b64([]byte(strings.Repeat("x", 256))), token.ErrSignature},
		{"four parts", good + ".x", token.ErrMalformed},
		{"two parts", gp[0] + "." + gp[1], token.ErrMalformed},
		{"empty", "", token.ErrMalformed},
		{"not base64", "!!!.???.***", token.ErrMalformed},
		{"payload not JSON", gp[0] + "." + b64([]byte("not json")) + "." + gp[2], token.ErrSignature},
		{"million characters", strings.Repeat("a", 1_000_000), token.ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(ctx, tc.raw)
			if !errors.Is(err, tc.want) || !errors.Is(err, token.ErrInvalid) || c != nil {
				t.Fatalf("err = %v, want %v (and ErrInvalid)", err, tc.want)
			}
		})
	}
	t.Run("control", func(t *testing.T) {
		if _, err := v.Verify(ctx, good); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("huge token refused before decoding", func(t *testing.T) {
		huge := strings.Repeat("a", 1_000_000)
		allocs := testing.AllocsPerRun(10, func() { _, _ = v.Verify(ctx, huge) })
		if allocs > 0 {
			t.Fatalf("refusing an oversized token allocated %v times", allocs)
		}
	})
	t.Run("empty configuration accepts nothing", func(t *testing.T) {
		for _, bad := range []*token.Verifier{
			{}, {Issuer: iss, Audience: aud, Keys: set}, {Issuer: iss, Algorithms: []string{"RS256"}, Keys: set},
			{Audience: aud, Algorithms: []string{"RS256"}, Keys: set}, {Issuer: iss, Audience: aud, Algorithms: []string{"RS256"}},
		} {
			if _, err := bad.Verify(ctx, good); !errors.Is(err, token.ErrConfig) || errors.Is(err, token.ErrInvalid) {
				t.Fatalf("%+v: %v", bad, err)
			}
		}
	})
	t.Run("none and HMAC refused even when listed", func(t *testing.T) {
		// The allow-list guard refuses them before any key is looked up: a
		// key source that hands out a key for the kid is never asked.
		spy := &countingKeys{KeySource: set}
		lax := verifier(spy, "none", "None", "HS256", "HS384", "HS512", "RS256")
		for _, alg := range []string{"none", "None", "HS256", "HS384", "HS512"} {
			raw := withHeader(map[string]any{"alg": alg, "kid": rs.ID(), "typ": "at+jwt"}, claims(nil), "c2ln")
			if _, err := lax.Verify(ctx, raw); !errors.Is(err, token.ErrAlgorithm) {
				t.Fatalf("alg %s: err = %v, want ErrAlgorithm", alg, err)
			}
			if n := spy.calls.Load(); n != 0 {
				t.Fatalf("alg %s reached the key source (%d lookups)", alg, n)
			}
		}
		if _, err := lax.Verify(ctx, good); err != nil || spy.calls.Load() != 1 {
			t.Fatalf("control: %v after %d lookups", err, spy.calls.Load())
		}
	})
}

func TestKeySetRotation(t *testing.T) {
	old, next := genKey(t, token.ES256), genKey(t, token.ES256)
	set := token.NewKeySet(old)
	raw, _ := old.Sign(token.TypeAccessToken, claims(nil))
	set.Add(next)
	if k, _ := set.Signer(token.ES256); k.ID() != next.ID() {
		t.Fatal("the newest key does not sign")
	}
	set.Retire(next.ID())
	if k, _ := set.Signer(token.ES256); k.ID() != old.ID() {
		t.Fatal("retiring the newest key does not fall back to the older one")
	}
	if _, err := verifier(set, token.ES256).Verify(context.Background(), raw); err != nil {
		t.Fatalf("old tokens stop verifying after a rotation: %v", err)
	}
	set.Remove(old.ID())
	if _, err := verifier(set, token.ES256).Verify(context.Background(), raw); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("a removed key still verifies: %v", err)
	}
	if _, err := set.Signer(token.RS256); !errors.Is(err, token.ErrNoKey) {
		t.Fatalf("Signer of an absent alg: %v", err)
	}
	if got := set.Algorithms(); len(got) != 0 {
		t.Fatalf("Algorithms = %v after retiring and removing every ES256 key", got)
	}
}

func TestSecretsAndHashes(t *testing.T) {
	s := token.NewSecret()
	if len(s) != 43 {
		t.Fatalf("secret %q is not 256 bits", s)
	}
	h := token.SecretHash(s)
	if !token.CheckSecret(h, s) || token.CheckSecret(h, s+"x") || token.CheckSecret(nil, "") || token.CheckSecret([]byte{}, s) {
		t.Fatal("CheckSecret")
	}
	if token.Hash("a") == token.Hash("b") || len(token.Hash("a")) != 43 {
		t.Fatal("Hash")
	}
	// OIDC Core §3.1.3.8 example values are for RS256 over an access token.
	got, _ := token.LeftHash(token.RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y")
	if got != "77QmUPtjPfzWtF2AnpK9RQ" {
		t.Fatalf("at_hash = %q", got)
	}
	ed, _ := token.LeftHash(token.EdDSA, "x")
	if len(ed) != 43 {
		t.Fatalf("EdDSA at_hash is not the left half of SHA-512: %q", ed)
	}
}

func TestAccessTokenJSON(t *testing.T) {
	at := token.AccessToken{Issuer: iss, Subject: "u\"1\n\x01é\xff", Audience: []string{"a", "b"}, ClientID: "c",
		Scope: "x y", GrantType: "client-credentials", JTI: "j", IssuedAt: time.Unix(10, 0), ExpiresAt: time.Unix(20, 0),
		Permissions: []string{}, Extra: map[string]any{"https://x/c": map[string]any{"k": 1}, "sub": "override"}}
	b, err := at.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if m["sub"] != "u\"1\n\x01é\ufffd" || m["exp"] != 20.0 || m["gty"] != "client-credentials" || len(m["aud"].([]any)) != 2 ||
		m["https://x/c"] == nil || m["permissions"] == nil {
		t.Fatalf("%s", b)
	}
}
