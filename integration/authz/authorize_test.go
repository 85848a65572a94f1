package authz_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/token"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jsonB64(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	must(t, err)
	return b64(b)
}

// validClaims is a claim set the fixture's users API accepts.
func (f *fixture) validClaims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": f.srv.Issuer(), "sub": "reporter@clients", "aud": usersAPI, "client_id": "reporter",
		"scope": "read:users", "jti": "j1", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// signOurs signs claims with the fixture's own RS256 key.
func (f *fixture) signOurs(t testing.TB, claims map[string]any) string {
	t.Helper()
	k, err := f.srv.Keys().Signer(token.RS256)
	must(t, err)
	payload, err := json.Marshal(claims)
	must(t, err)
	raw, err := k.Sign(token.TypeAccessToken, payload)
	must(t, err)
	return raw
}

// TestAuthorizeRefusesHostileTokens is the RFC 8725 checklist at the
// middleware: each token must get 401 invalid_token and never reach the
// handler.
func TestAuthorizeRefusesHostileTokens(t *testing.T) {
	f := newFixture(t)
	ourKey, err := f.srv.Keys().Signer(token.RS256)
	must(t, err)
	kid := ourKey.ID()
	pub := ourKey.Public().Key.(*rsa.PublicKey)
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	must(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	foreign, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)

	hs256 := func(claims map[string]any) string {
		in := jsonB64(t, map[string]any{"alg": "HS256", "kid": kid, "typ": "at+jwt"}) + "." + jsonB64(t, claims)
		m := hmac.New(sha256.New, pubPEM)
		m.Write([]byte(in))
		return in + "." + b64(m.Sum(nil))
	}
	foreignSigned := func(claims map[string]any) string {
		in := jsonB64(t, map[string]any{"alg": "RS256", "kid": kid, "typ": "at+jwt"}) + "." + jsonB64(t, claims)
		h := sha256.Sum256([]byte(in))
		sig, err := rsa.SignPKCS1v15(rand.Reader, foreign, crypto.SHA256, h[:])
		must(t, err)
		return in + "." + b64(sig)
	}
	unsigned := func(alg string) string {
		return jsonB64(t, map[string]any{"alg": alg, "kid": kid, "typ": "at+jwt"}) + "." + jsonB64(t, f.validClaims()) + "."
	}
	with := func(k string, v any) map[string]any {
		c := f.validClaims()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	tampered := func() string {
		raw := f.signOurs(t, f.validClaims())
		parts := strings.Split(raw, ".")
		parts[1] = jsonB64(t, with("scope", "read:users write:users"))
		return strings.Join(parts, ".")
	}
	typed := func(typ string) string {
		payload, err := json.Marshal(f.validClaims())
		must(t, err)
		raw, err := ourKey.Sign(typ, payload)
		must(t, err)
		return raw
	}
	cases := map[string]string{
		"typ JWT (an ID token)":           typed(token.TypeIDToken),
		"no typ":                          typed(""),
		"alg none":                        unsigned("none"),
		"alg NONE":                        unsigned("NONE"),
		"alg nOnE":                        unsigned("nOnE"),
		"alg None":                        unsigned("None"),
		"HS256 keyed with our public key": hs256(f.validClaims()),
		"foreign key with our kid":        foreignSigned(f.validClaims()),
		"wrong aud":                       f.signOurs(t, with("aud", bankAPI)),
		"wrong iss":                       f.signOurs(t, with("iss", "https://evil.example.com/")),
		"expired":                         f.signOurs(t, with("exp", time.Now().Add(-time.Hour).Unix())),
		"missing exp":                     f.signOurs(t, with("exp", nil)),
		"not yet valid":                   f.signOurs(t, with("nbf", time.Now().Add(time.Hour).Unix())),
		"tampered payload":                tampered(),
		"million characters":              strings.Repeat("a", 1_000_000),
		"two parts":                       "abc.def",
		"garbage":                         "!!!.???.***",
	}
	reached := false
	h := f.srv.Authorizer(usersAPI).RequireScopes("read:users")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
	}))
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			reached = false
			rec := httpRoundTrip(t, h, "GET", "/users", raw)
			if rec.Code != http.StatusUnauthorized || reached {
				t.Fatalf("status %d, handler reached %v", rec.Code, reached)
			}
			if ch := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer realm=") || !strings.Contains(ch, `error="invalid_token"`) {
				t.Fatalf("WWW-Authenticate = %q", ch)
			}
		})
	}
	t.Run("control: our own valid token passes", func(t *testing.T) {
		rec := httpRoundTrip(t, h, "GET", "/users", f.signOurs(t, f.validClaims()))
		if rec.Code != http.StatusOK || !reached {
			t.Fatalf("status %d", rec.Code)
		}
	})
	t.Run("no token is a bare challenge", func(t *testing.T) {
		rec := httpRoundTrip(t, h, "GET", "/users", "")
		ch := rec.Header().Get("WWW-Authenticate")
		if rec.Code != http.StatusUnauthorized || ch != `Bearer realm="`+f.srv.Issuer()+`"` {
			t.Fatalf("status %d, challenge %q", rec.Code, ch)
		}
	})
}

func TestAuthorizeInProcess(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.issue(t, bankAPI).AccessToken
	cases := []struct {
		name string
		req  resource.Requirement
		want error
	}{
		{"all of held", resource.Requirement{Audience: bankAPI, AllOf: []string{"read:balance", "transfer:funds"}}, nil},
		{"any of", resource.Requirement{Audience: bankAPI, AnyOf: []string{"nope", "read:balance"}}, nil},
		{"all of missing one", resource.Requirement{Audience: bankAPI, AllOf: []string{"read:balance", "close:account"}}, oauth.ErrInsufficientScope},
		{"any of none held", resource.Requirement{Audience: bankAPI, AnyOf: []string{"a", "b"}}, oauth.ErrInsufficientScope},
		{"other audience", resource.Requirement{Audience: usersAPI}, oauth.ErrInvalidToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := f.srv.Authorize(ctx, tok, tc.req)
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == nil && (p.Subject != "reporter@clients" || !p.HasScope("transfer:funds") || p.ClientID != "reporter") {
				t.Fatalf("principal %+v", p)
			}
		})
	}
	t.Run("bank API tokens are ES256", func(t *testing.T) {
		var hdr struct{ Alg, Typ, Kid string }
		b, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		must(t, json.Unmarshal(b, &hdr))
		if hdr.Alg != "ES256" || hdr.Typ != "at+jwt" || hdr.Kid == "" {
			t.Fatalf("header %+v", hdr)
		}
	})
	t.Run("missing scope names it", func(t *testing.T) {
		_, err := f.srv.Authorize(ctx, tok, resource.Requirement{Audience: bankAPI, AllOf: []string{"read:balance", "close:account"}})
		var e *oauth.Error
		if !errors.As(err, &e) || e.Scope != "close:account" || e.Status != 403 {
			t.Fatalf("err = %#v", err)
		}
	})
}

func TestRequireAnyScopeMiddleware(t *testing.T) {
	f := newFixture(t)
	tok := f.issue(t, usersAPI).AccessToken // read:users
	a := f.srv.Authorizer(usersAPI)
	reached := false
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, found := resource.PrincipalFrom(r.Context())
		reached = found && p.HasScope("read:users")
	})
	t.Run("one of them held", func(t *testing.T) {
		reached = false
		rec := httpRoundTrip(t, a.RequireAnyScope("write:users", "read:users")(ok), "GET", "/", tok)
		if rec.Code != http.StatusOK || !reached {
			t.Fatalf("status %d, reached %v", rec.Code, reached)
		}
	})
	t.Run("none held", func(t *testing.T) {
		reached = false
		rec := httpRoundTrip(t, a.RequireAnyScope("write:users", "delete:users")(ok), "GET", "/", tok)
		ch := rec.Header().Get("WWW-Authenticate")
		if rec.Code != http.StatusForbidden || reached || !strings.Contains(ch, `error="insufficient_scope"`) ||
			!strings.Contains(ch, `scope="write:users delete:users"`) {
			t.Fatalf("status %d, reached %v, challenge %q", rec.Code, reached, ch)
		}
	})
	t.Run("no token", func(t *testing.T) {
		reached = false
		rec := httpRoundTrip(t, a.RequireAnyScope("read:users")(ok), "GET", "/", "")
		if rec.Code != http.StatusUnauthorized || reached || strings.Contains(rec.Header().Get("WWW-Authenticate"), "error=") {
			t.Fatalf("status %d, challenge %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
	})
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }

// TestHugeBearerRefusedCheaply: a million-character bearer value is refused
// by its length, before any decoding: the middleware neither copies nor
// decodes it, so memory per request stays far below the token's size.
func TestHugeBearerRefusedCheaply(t *testing.T) {
	f := newFixture(t)
	h := f.srv.Authorizer(usersAPI).RequireScopes("read:users")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("handler reached")
	}))
	huge := strings.Repeat("a", 1_000_000)
	dotted := strings.Repeat("a", 500_000) + "." + strings.Repeat("b", 499_998) + ".c"
	for name, raw := range map[string]string{"no dots": huge, "three parts": dotted} {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest("GET", "/users", nil)
			must(t, err)
			req.Header.Set("Authorization", "Bearer "+raw)
			w := &discardWriter{}
			serve := func() {
				w.h, w.code = http.Header{}, 0
				h.ServeHTTP(w, req)
			}
			serve()
			if w.code != http.StatusUnauthorized || !strings.Contains(w.h.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("status %d, challenge %q", w.code, w.h.Get("WWW-Authenticate"))
			}
			const runs = 50
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			for i := 0; i < runs; i++ {
				serve()
			}
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if perReq := (after.TotalAlloc - before.TotalAlloc) / runs; perReq > 16<<10 {
				t.Fatalf("%d bytes allocated per refusal of a %d-byte token", perReq, len(raw))
			}
			if allocs := (after.Mallocs - before.Mallocs) / runs; allocs > 40 {
				t.Fatalf("%d allocations per refusal", allocs)
			}
			// A scan of the token is ~1ms at worst; decoding and hashing it
			// would be far more. Generous, for a loaded machine under -race.
			if elapsed/runs > 20*time.Millisecond {
				t.Fatalf("refusal took %v per request", elapsed/runs)
			}
		})
	}
}
