package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/ory/fosite"

	"github.com/scopekit/scopekit/authz"
)

// issuers returns the token endpoints compared for alg. fosite is measured
// as shipped (bcrypt cost 12 on every client authentication) and with its
// cheapest secret hashing (bcrypt cost 4).
func issuers(tb testing.TB, alg string) []struct {
	name string
	h    http.Handler
} {
	k := keyFor(tb, alg)
	return []struct {
		name string
		h    http.Handler
	}{
		{"scopekit", scopekitIssuer(tb, k, 0).Handler()},
		{"fosite", newFosite(tb, k, 4)},
		{"fosite-as-shipped", newFosite(tb, k, 0)},
		{"go-oauth2", goOAuth2Issuer(tb, k)},
	}
}

// TestIssuersAgree checks that every compared issuer answers the benchmark
// request with a token, so that no row measures an error path.
func TestIssuersAgree(t *testing.T) {
	for _, alg := range algs {
		for _, is := range issuers(t, alg) {
			rec := post(is.h, ccForm)
			var body map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != 200 || body["access_token"] == nil {
				t.Errorf("%s %s: %d %s", alg, is.name, rec.Code, rec.Body.String())
			}
		}
	}
}

// BenchmarkIssue is client-credentials issuance end to end in-process:
// request parsing, client authentication, scope decision, signing,
// persistence and response encoding, through each library's HTTP handler.
//
// "harness" is the measurement's own floor (building the request and
// recording the response around a handler that does nothing); every row
// includes it. "scopekit-inprocess" is Server.Issue without HTTP.
func BenchmarkIssue(b *testing.B) {
	ctx := context.Background()
	noop := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{}`)) })
	for _, alg := range algs {
		b.Run(alg+"/harness", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				post(noop, ccForm)
			}
		})
		srv := scopekitIssuer(b, keyFor(b, alg), 0)
		req := &authz.TokenRequest{GrantType: "client_credentials", ClientID: clientID, ClientSecret: clientSecret,
			AuthMethod: authz.AuthBasic, Audience: apiID, Scopes: []string{"read", "write"}}
		b.Run(alg+"/scopekit-inprocess", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := srv.Issue(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, is := range issuers(b, alg) {
			b.Run(alg+"/"+is.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if rec := post(is.h, ccForm); rec.Code != 200 {
						b.Fatal(rec.Body.String())
					}
				}
			})
		}
	}
}

func fositeToken(b *testing.B, f *fositeIssuer) string {
	rec := post(f, ccForm)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.AccessToken == "" {
		b.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	return body.AccessToken
}

// BenchmarkVerify is token checking on the API side: the primitive, go-jose,
// scopekit's Authorize for a fresh token (no cache) and a token seen before,
// fosite's stateless JWT validation and its introspection.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	req := authz.Requirement{Audience: apiID, AllOf: []string{"read"}}
	for _, alg := range algs {
		k := keyFor(b, alg)
		fresh := scopekitIssuer(b, k, -1)
		resp, err := fresh.Issue(ctx, &authz.TokenRequest{GrantType: "client_credentials", ClientID: clientID,
			ClientSecret: clientSecret, AuthMethod: authz.AuthBasic, Audience: apiID})
		if err != nil {
			b.Fatal(err)
		}
		raw := resp.AccessToken
		benchVerifyBaseline(b, alg, raw)
		b.Run(alg+"/scopekit-fresh", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := fresh.Authorize(ctx, raw, req); err != nil {
					b.Fatal(err)
				}
			}
		})
		cached := scopekitIssuer(b, k, 0)
		b.Run(alg+"/scopekit-repeat", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := cached.Authorize(ctx, raw, req); err != nil {
					b.Fatal(err)
				}
			}
		})
		if alg == "EdDSA" {
			continue // fosite cannot validate EdDSA tokens
		}
		f := newFosite(b, k, 4)
		ft := fositeToken(b, f)
		b.Run(alg+"/fosite-jwt", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := f.strategy.ValidateAccessToken(ctx, nil, ft); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/fosite-introspect", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := f.provider.IntrospectToken(ctx, ft, fosite.AccessToken, newJWTSession()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIntrospect is RFC 7662 introspection of a JWT access token.
func BenchmarkIntrospect(b *testing.B) {
	ctx := context.Background()
	for _, alg := range algs {
		k := keyFor(b, alg)
		srv := scopekitIssuer(b, k, 0)
		resp, err := srv.Issue(ctx, &authz.TokenRequest{GrantType: "client_credentials", ClientID: clientID,
			ClientSecret: clientSecret, AuthMethod: authz.AuthBasic, Audience: apiID})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(alg+"/scopekit", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if in, err := srv.Introspect(ctx, resp.AccessToken); err != nil || !in.Active {
					b.Fatal(err)
				}
			}
		})
		if alg == "EdDSA" {
			continue // fosite cannot validate EdDSA tokens
		}
		f := newFosite(b, k, 4)
		ft := fositeToken(b, f)
		b.Run(alg+"/fosite", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := f.provider.IntrospectToken(ctx, ft, fosite.AccessToken, newJWTSession()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
