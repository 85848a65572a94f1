package token_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scopekit/scopekit/token"
)

// TestAccessTokenRequiredClaims signs access tokens with the issuer's key
// that lack one RFC 9068 §2.2 claim each: every one is invalid.
func TestAccessTokenRequiredClaims(t *testing.T) {
	k := genKey(t, token.ES256)
	v := verifier(token.NewKeySet(k), token.ES256)
	ctx := context.Background()
	raw, _ := k.Sign(token.TypeAccessToken, claims(nil))
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sub", "client_id", "iat", "jti"} {
		for _, typ := range []string{token.TypeAccessToken, "application/AT+JWT"} {
			for _, val := range []any{nil, ""} {
				raw, _ := k.Sign(typ, claims(func(c map[string]any) {
					if val == nil {
						delete(c, name)
					} else if name != "iat" {
						c[name] = val
					} else {
						delete(c, name)
					}
				}))
				if _, err := v.Verify(ctx, raw); !errors.Is(err, token.ErrInvalid) {
					t.Errorf("%s without %s (%v): err = %v", typ, name, val, err)
				}
			}
		}
	}
	// Other JWTs of the issuer (an ID token) are not held to RFC 9068.
	idv := verifier(token.NewKeySet(k), token.ES256)
	idv.Types = []string{token.TypeIDToken}
	raw, _ = k.Sign(token.TypeIDToken, claims(func(c map[string]any) { delete(c, "client_id"); delete(c, "jti") }))
	if _, err := idv.Verify(ctx, raw); err != nil {
		t.Fatalf("ID token: %v", err)
	}
}

// TestInvalidUTF8Refused signs a payload, and a header, holding \xff inside
// a string: both are refused, not decoded with a replacement character.
func TestInvalidUTF8Refused(t *testing.T) {
	k := genKey(t, token.EdDSA)
	v := verifier(token.NewKeySet(k), token.EdDSA)
	ctx := context.Background()
	payload := bytes.Replace(claims(nil), []byte(`"sub":"u1"`), []byte("\"sub\":\"u\xff1\""), 1)
	raw, _ := k.Sign(token.TypeAccessToken, payload)
	if _, err := v.Verify(ctx, raw); !errors.Is(err, token.ErrMalformed) {
		t.Fatalf("payload: err = %v", err)
	}
	payload = bytes.Replace(claims(nil), []byte(`"scope":"read write"`), []byte("\"scope\":\"read\xc0 write\""), 1)
	raw, _ = k.Sign(token.TypeAccessToken, payload)
	if _, err := v.Verify(ctx, raw); !errors.Is(err, token.ErrMalformed) {
		t.Fatalf("payload: err = %v", err)
	}

	// A header with invalid UTF-8, signed by hand with the same key.
	b, err := k.MarshalJWK()
	if err != nil {
		t.Fatal(err)
	}
	var jwk jose.JSONWebKey
	if err := json.Unmarshal(b, &jwk); err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	hdr := enc.EncodeToString([]byte(`{"alg":"EdDSA","kid":"` + k.ID() + "\",\"typ\":\"at+jwt\",\"x\":\"\xff\"}"))
	input := hdr + "." + enc.EncodeToString(claims(nil))
	raw = input + "." + enc.EncodeToString(ed25519.Sign(jwk.Key.(ed25519.PrivateKey), []byte(input)))
	if _, err := v.Verify(ctx, raw); !errors.Is(err, token.ErrMalformed) {
		t.Fatalf("header: err = %v", err)
	}
	// The same header without the bad byte verifies: the test signs right.
	hdr = enc.EncodeToString([]byte(`{"alg":"EdDSA","kid":"` + k.ID() + `","typ":"at+jwt","x":"y"}`))
	input = hdr + "." + enc.EncodeToString(claims(nil))
	raw = input + "." + enc.EncodeToString(ed25519.Sign(jwk.Key.(ed25519.PrivateKey), []byte(input)))
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatalf("control: %v", err)
	}
}
