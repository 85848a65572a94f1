package token_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scopekit/scopekit/token"
)

const dpopHTU = "https://auth.example.com/oauth/token"

// dpopProof signs a DPoP proof with go-jose: the public key of key in the
// header (or hdr's jwk), typ dpop+jwt unless hdr says otherwise.
func dpopProof(t testing.TB, alg jose.SignatureAlgorithm, key any, claims map[string]any, hdr map[jose.HeaderKey]any) string {
	t.Helper()
	opts := &jose.SignerOptions{EmbedJWK: hdr["jwk"] == nil, ExtraHeaders: map[jose.HeaderKey]any{"typ": token.TypeDPoPProof}}
	for k, v := range hdr {
		opts.ExtraHeaders[k] = v
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func dpopClaims(now time.Time) map[string]any {
	return map[string]any{"jti": rand.Text(), "htm": "POST", "htu": dpopHTU, "iat": now.Unix()}
}

func with(m map[string]any, k string, v any) map[string]any {
	c := map[string]any{}
	for x, y := range m {
		c[x] = y
	}
	if v == nil {
		delete(c, k)
	} else {
		c[k] = v
	}
	return c
}

// TestDPoPVerify accepts a proof of every allowed algorithm with its key's
// thumbprint, and refuses every defect RFC 9449 §4.3 lists.
func TestDPoPVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	v := &token.DPoPVerifier{Now: func() time.Time { return now }}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	req := token.DPoPRequest{Method: "POST", URL: dpopHTU}

	t.Run("accepted", func(t *testing.T) {
		for _, tc := range []struct {
			alg jose.SignatureAlgorithm
			key any
			pub any
		}{{jose.ES256, ec, &ec.PublicKey}, {jose.RS256, rk, &rk.PublicKey}, {jose.PS256, rk, &rk.PublicKey}, {jose.EdDSA, ed, ed.Public()}} {
			raw := dpopProof(t, tc.alg, tc.key, dpopClaims(now), nil)
			p, err := v.Verify(raw, req)
			if err != nil {
				t.Fatalf("%s: %v", tc.alg, err)
			}
			tp, _ := (&jose.JSONWebKey{Key: tc.pub}).Thumbprint(cryptoSHA256)
			if p.JKT != base64.RawURLEncoding.EncodeToString(tp) || p.JTI == "" || !p.IssuedAt.Equal(now) {
				t.Fatalf("%s: proof %+v", tc.alg, p)
			}
		}
	})
	t.Run("htu normalised, query and fragment ignored", func(t *testing.T) {
		for _, htu := range []string{"HTTPS://Auth.Example.COM:443/oauth/token", "https://auth.example.com/oauth/token?x=1#f"} {
			if _, err := v.Verify(dpopProof(t, jose.ES256, ec, with(dpopClaims(now), "htu", htu), nil), req); err != nil {
				t.Fatalf("htu %s: %v", htu, err)
			}
		}
	})

	hs, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: make([]byte, 32)},
		(&jose.SignerOptions{}).WithType(token.TypeDPoPProof).WithHeader("jwk", jose.JSONWebKey{Key: &ec.PublicKey}))
	hsJWS, _ := hs.Sign([]byte(`{"jti":"x","htm":"POST","htu":"` + dpopHTU + `","iat":` + jsonNum(now) + `}`))
	hmacProof, _ := hsJWS.CompactSerialize()
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"dpop+jwt","jwk":` + jwkJSON(t, &ec.PublicKey) + `}`))
	nonePayload := base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"x","htm":"POST","htu":"` + dpopHTU + `","iat":` + jsonNum(now) + `}`))

	for _, tc := range []struct {
		name string
		raw  string
		req  token.DPoPRequest
		want error
	}{
		{"wrong htm", dpopProof(t, jose.ES256, ec, with(dpopClaims(now), "htm", "GET"), nil), req, token.ErrDPoPRequest},
		{"wrong htu", dpopProof(t, jose.ES256, ec, with(dpopClaims(now), "htu", "https://evil.example.com/oauth/token"), nil), req, token.ErrDPoPRequest},
		{"htu path differs", dpopProof(t, jose.ES256, ec, with(dpopClaims(now), "htu", dpopHTU+"/x"), nil), req, token.ErrDPoPRequest},
		{"stale iat", dpopProof(t, jose.ES256, ec, with(dpopClaims(now), "iat", now.Add(-61*time.Second).Unix()), nil), req, token.ErrDPoPTime},
		{"future iat", dpopProof(t, jose.ES256, ec, with(dpopClaims(now), "iat", now.Add(61*time.Second).Unix()), nil), req, token.ErrDPoPTime},
		{"no iat", dpopProof(t, jose.ES256, ec, with(dpopClaims(now), "iat", nil), nil), req, token.ErrDPoPTime},
		{"no jti", dpopProof(t, jose.ES256, ec, with(dpopClaims(now), "jti", nil), nil), req, token.ErrMissingClaim},
		{"wrong ath", dpopProof(t, jose.ES256, ec, with(dpopClaims(now), "ath", token.AccessTokenHash("other")), nil),
			token.DPoPRequest{Method: "POST", URL: dpopHTU, AccessToken: "the-token"}, token.ErrDPoPAccessToken},
		{"missing ath", dpopProof(t, jose.ES256, ec, dpopClaims(now), nil),
			token.DPoPRequest{Method: "POST", URL: dpopHTU, AccessToken: "the-token"}, token.ErrDPoPAccessToken},
		{"alg none", noneHeader + "." + nonePayload + ".c2ln", req, token.ErrAlgorithm},
		{"HMAC", hmacProof, req, token.ErrAlgorithm},
		{"private key in jwk", dpopProof(t, jose.ES256, ec, dpopClaims(now), map[jose.HeaderKey]any{"jwk": jose.JSONWebKey{Key: ec}}), req, token.ErrDPoPKey},
		{"key of another algorithm", dpopProof(t, jose.ES256, ec, dpopClaims(now), map[jose.HeaderKey]any{"jwk": jose.JSONWebKey{Key: &rk.PublicKey}}), req, token.ErrSignature},
		{"wrong typ", dpopProof(t, jose.ES256, ec, dpopClaims(now), map[jose.HeaderKey]any{"typ": "JWT"}), req, token.ErrType},
		{"oversized", dpopProof(t, jose.ES256, ec, with(dpopClaims(now), "pad", strings.Repeat("a", token.DefaultDPoPMaxSize)), nil), req, token.ErrTooLarge},
		{"nonce missing", dpopProof(t, jose.ES256, ec, dpopClaims(now), nil), token.DPoPRequest{Method: "POST", URL: dpopHTU, Nonce: "n1"}, token.ErrDPoPNonce},
		{"nonce wrong", dpopProof(t, jose.ES256, ec, with(dpopClaims(now), "nonce", "n0"), nil), token.DPoPRequest{Method: "POST", URL: dpopHTU, Nonce: "n1"}, token.ErrDPoPNonce},
		{"not a JWS", "a.b", req, token.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(tc.raw, tc.req)
			if !errors.Is(err, tc.want) || !errors.Is(err, token.ErrInvalid) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestDPoPNonces: a nonce is accepted in its period and the next, then
// refused; another secret's nonce never is.
func TestDPoPNonces(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clk := func() time.Time { return now }
	secret := []byte(strings.Repeat("s", 32))
	n := token.NewDPoPNonces(secret, time.Minute, clk)
	other := token.NewDPoPNonces([]byte(strings.Repeat("o", 32)), time.Minute, clk)
	if token.NewDPoPNonces([]byte("short"), 0, nil) != nil {
		t.Fatal("a short secret was accepted")
	}
	cur := n.Current()
	if !n.Valid(cur) || other.Valid(cur) || n.Valid("") {
		t.Fatal("current nonce not accepted, or accepted under another secret")
	}
	now = now.Add(time.Minute)
	if !n.Valid(cur) || n.Current() == cur {
		t.Fatal("the previous period's nonce must stay valid and the current one rotate")
	}
	now = now.Add(time.Minute)
	if n.Valid(cur) {
		t.Fatal("a nonce two periods old was accepted")
	}
}

var cryptoSHA256 = crypto.SHA256

func jsonNum(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func jwkJSON(t *testing.T, key any) string {
	b, err := json.Marshal(jose.JSONWebKey{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzDPoPVerify: no input panics the proof parser, and an accepted proof
// always names its key and jti.
func FuzzDPoPVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.Add(dpopProof(f, jose.ES256, ec, dpopClaims(now), nil))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	v := &token.DPoPVerifier{Now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := v.Verify(raw, token.DPoPRequest{Method: "POST", URL: dpopHTU})
		if err == nil && (p.JKT == "" || p.JTI == "") {
			t.Fatalf("accepted a proof without key or jti: %+v", p)
		}
		if err != nil && !errors.Is(err, token.ErrInvalid) {
			t.Fatalf("a proof defect that is not ErrInvalid: %v", err)
		}
	})
}
