package bench

import (
	"github.com/scopekit/scopekit/bench/internal/peers"

	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ory/fosite"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
)

// namedIssuer is one compared token endpoint.
type namedIssuer struct {
	name string
	h    http.Handler
}

// issuers returns the token endpoints compared for alg. fosite is measured
// with a SHA-256 secret hasher (its framework work alone), with bcrypt at
// its lowest cost, and as shipped (bcrypt cost 12 on every client
// authentication).
func issuers(tb testing.TB, alg string) []namedIssuer {
	k := keyFor(tb, alg)
	return []namedIssuer{
		{"scopekit", scopekitIssuer(tb, k, 0).Handler()},
		{"fosite-sha256", newFosite(tb, k, peers.FositeSHA256)},
		{"fosite-bcrypt4", newFosite(tb, k, peers.FositeBcrypt4)},
		{"fosite-as-shipped", newFosite(tb, k, peers.FositeAsShipped)},
		{"go-oauth2", goOAuth2(tb, k)},
		{"zitadel", zitadel(tb, k)},
	}
}

// ccRequest is the client-credentials request of every Issue row.
var ccRequest = &authz.TokenRequest{GrantType: "client_credentials", ClientID: clientID, ClientSecret: clientSecret,
	AuthMethod: oauth.AuthBasic, Audience: apiID, Scopes: []string{"read", "write"}}

// signingInput is the JWS signing input (header.payload) of a compact token.
func signingInputOf(raw string) []byte { return []byte(raw[:strings.LastIndexByte(raw, '.')]) }

// scopekitToken issues one token from srv.
func scopekitToken(tb testing.TB, srv *authz.Server) string {
	resp, err := srv.Issue(context.Background(), ccRequest)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.AccessToken
}

// BenchmarkIssue is client-credentials issuance end to end in-process:
// request parsing, client authentication, scope decision, signing,
// persistence and response encoding, through each library's HTTP handler.
//
// "primitive" is the bare signature over the signing input of a scopekit
// token, measured first in each group so that the ratios compare rows of
// the same moment. "harness" is the measurement's own floor (building the
// request and recording the response around a handler that does nothing);
// every HTTP row includes it. "scopekit-inprocess" is Server.Issue without
// HTTP; "scopekit-redis" and "scopekit-mongo" are Server.Issue on those
// drivers and report their round trips per token.
func BenchmarkIssue(b *testing.B) {
	ctx := context.Background()
	bk := startBackends(b)
	noop := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{}`)) })
	for _, alg := range algs {
		k := keyFor(b, alg)
		srv := scopekitIssuer(b, k, 0)
		in := signingInputOf(scopekitToken(b, srv))
		b.Run(alg+"/primitive", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rawSign(k, in)
			}
		})
		b.Run(alg+"/harness", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				post(noop, ccForm)
			}
		})
		b.Run(alg+"/scopekit-inprocess", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := srv.Issue(ctx, ccRequest); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, d := range drivers {
			ds := scopekitIssuerOn(b, bk.store(b, d), k, 0)
			b.Run(alg+"/scopekit-"+d, func(b *testing.B) {
				bk.reportRoundTrips(b, d, func() error { _, err := ds.Issue(ctx, ccRequest); return err })
			})
		}
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

// fositeToken is an access token issued by f's token endpoint.
func fositeToken(tb testing.TB, f *peers.Fosite) string {
	rec := post(f, ccForm)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.AccessToken == "" {
		tb.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	return body.AccessToken
}

// BenchmarkVerify is token checking on the API side: the primitive, go-jose,
// scopekit's Authorize for a fresh token (no cache) and a token seen before,
// fosite's stateless JWT validation and its introspection.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	req := resource.Requirement{Audience: apiID, AllOf: []string{"read"}}
	for _, alg := range algs {
		k := keyFor(b, alg)
		fresh := scopekitIssuer(b, k, -1)
		raw := scopekitToken(b, fresh)
		benchPrimitiveVerify(b, alg, raw)
		benchGoJoseVerify(b, alg, raw)
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
			// The first Authorize verifies the token and fills the cache;
			// the timed loop measures only checks of a token seen before.
			if _, err := cached.Authorize(ctx, raw, req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := cached.Authorize(ctx, raw, req); err != nil {
					b.Fatal(err)
				}
			}
		})
		if alg == "EdDSA" {
			continue // fosite's DefaultSigner validates only RSA and ECDSA keys
		}
		f := newFosite(b, k, peers.FositeSHA256)
		ft := fositeToken(b, f)
		b.Run(alg+"/fosite-jwt", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := f.Strategy.ValidateAccessToken(ctx, nil, ft); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/fosite-introspect", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := f.Provider.IntrospectToken(ctx, ft, fosite.AccessToken, peers.NewJWTSession()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIntrospect is RFC 7662 introspection of a JWT access token: the
// verification primitive first, then scopekit on the memory, Redis and
// MongoDB drivers (these report their round trips), then fosite.
func BenchmarkIntrospect(b *testing.B) {
	ctx := context.Background()
	bk := startBackends(b)
	for _, alg := range algs {
		k := keyFor(b, alg)
		srv := scopekitIssuer(b, k, 0)
		raw := scopekitToken(b, srv)
		benchPrimitiveVerify(b, alg, raw)
		b.Run(alg+"/scopekit", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if in, err := srv.Introspect(ctx, raw); err != nil || !in.Active {
					b.Fatal(in, err)
				}
			}
		})
		for _, d := range drivers {
			ds := scopekitIssuerOn(b, bk.store(b, d), k, 0)
			dt := scopekitToken(b, ds)
			b.Run(alg+"/scopekit-"+d, func(b *testing.B) {
				bk.reportRoundTrips(b, d, func() error {
					in, err := ds.Introspect(ctx, dt)
					if err == nil && !in.Active {
						b.Fatal("inactive token")
					}
					return err
				})
			})
		}
		if alg == "EdDSA" {
			continue // fosite's DefaultSigner validates only RSA and ECDSA keys
		}
		f := newFosite(b, k, peers.FositeSHA256)
		ft := fositeToken(b, f)
		b.Run(alg+"/fosite", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := f.Provider.IntrospectToken(ctx, ft, fosite.AccessToken, peers.NewJWTSession()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
