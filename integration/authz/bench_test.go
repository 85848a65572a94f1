package authz_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// benchFixture has one API per algorithm, each granted to "reporter".
func benchFixture(b *testing.B) *fixture {
	f := newFixture(b)
	addBenchAPIs(b, f)
	return f
}

func addBenchAPIs(b *testing.B, f *fixture) {
	ctx := context.Background()
	for _, alg := range []string{token.PS256, token.EdDSA} {
		if _, err := f.srv.RotateKey(ctx, alg); err != nil {
			b.Fatal(err)
		}
	}
	for _, alg := range []string{token.RS256, token.PS256, token.ES256, token.EdDSA} {
		aud := "https://" + strings.ToLower(alg) + ".example.com"
		must(b, f.store.APIs().Create(ctx, &storage.API{Identifier: aud, Name: alg, SigningAlg: alg, Scopes: []storage.Scope{{Name: "read"}}}))
		must(b, f.store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "reporter", Audience: aud, Scopes: []string{"read"}}))
	}
}

// BenchmarkIssueClientCredentials is issuance end to end in-process: request
// parsing, client authentication, scope decision, signing and response
// encoding, through the HTTP handler.
func BenchmarkIssueClientCredentials(b *testing.B) {
	f := benchFixture(b)
	h := f.srv.Handler()
	for _, alg := range []string{token.RS256, token.PS256, token.ES256, token.EdDSA} {
		body := url.Values{"grant_type": {"client_credentials"}, "audience": {"https://" + strings.ToLower(alg) + ".example.com"}}.Encode()
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth("reporter", f.secret)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Body.String())
				}
			}
		})
	}
}

// BenchmarkIssueInProcess is the Issue verb alone, without HTTP.
func BenchmarkIssueInProcess(b *testing.B) {
	f := benchFixture(b)
	ctx := context.Background()
	for _, alg := range []string{token.RS256, token.ES256, token.EdDSA} {
		req := &authz.TokenRequest{GrantType: "client_credentials", ClientID: "reporter", ClientSecret: f.secret,
			AuthMethod: oauth.AuthBasic, Audience: "https://" + strings.ToLower(alg) + ".example.com"}
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.srv.Issue(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAuthorize verifies a token and checks a scope, in-process with a
// revocation lookup in the memory store. "fresh" runs without the verified
// token cache (every call checks the signature); "repeat" with it.
func BenchmarkAuthorize(b *testing.B) {
	b.Run("fresh", func(b *testing.B) { benchAuthorize(b, -1) })
	b.Run("repeat", func(b *testing.B) { benchAuthorize(b, 0) })
}

func benchAuthorize(b *testing.B, cache int) {
	f := newFixture(b, func(c *authz.Config) { c.VerifiedTokenCache = cache })
	addBenchAPIs(b, f)
	ctx := context.Background()
	for _, alg := range []string{token.RS256, token.ES256, token.EdDSA} {
		aud := "https://" + strings.ToLower(alg) + ".example.com"
		tok := f.issue(b, aud).AccessToken
		a := f.srv.Authorizer(aud)
		req := resource.Requirement{AllOf: []string{"read"}}
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authorize(ctx, tok, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkScopeHas(b *testing.B) {
	scope := "openid profile email read:users write:users delete:users"
	b.ReportAllocs()
	for b.Loop() {
		if !oauth.ScopeHas(scope, "delete:users") {
			b.Fatal("missing")
		}
	}
}
