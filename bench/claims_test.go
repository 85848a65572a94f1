package bench

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"
)

// decoded is a compact JWS split into its JSON header and claims.
type decoded struct {
	header, claims map[string]any
}

func decodeJWT(t *testing.T, raw string) decoded {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", raw)
	}
	var d decoded
	for i, dst := range []*map[string]any{&d.header, &d.claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// audience normalises "aud" (a string or an array) to a slice.
func audience(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, 0, len(a))
		for _, s := range a {
			out = append(out, s.(string))
		}
		return out
	}
	return nil
}

// TestClaimSetsAgree keeps the comparison honest: every issuer of the Issue
// rows answers the benchmark request with a token signed by the same key,
// with the same header (alg, kid, typ) and the same claim names and values
// as scopekit's, except the per-token jti, iat and exp (and aud, which
// fosite and go-oauth2 always encode as an array).
func TestClaimSetsAgree(t *testing.T) {
	for _, alg := range algs {
		k := keyFor(t, alg)
		var want decoded
		for i, is := range issuers(t, alg) {
			rec := post(is.h, ccForm)
			var body struct {
				AccessToken string `json:"access_token"`
				ExpiresIn   int    `json:"expires_in"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); rec.Code != 200 || err != nil || body.AccessToken == "" {
				t.Fatalf("%s %s: %d %s", alg, is.name, rec.Code, rec.Body.String())
			}
			jws, err := jose.ParseSignedCompact(body.AccessToken, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatalf("%s %s: %v", alg, is.name, err)
			}
			if _, err := jws.Verify(k.pub); err != nil {
				t.Errorf("%s %s: not signed by the shared key: %v", alg, is.name, err)
			}
			got := decodeJWT(t, body.AccessToken)
			if got.header["alg"] != alg || got.header["kid"] != k.key.ID() || got.header["typ"] != "at+jwt" {
				t.Errorf("%s %s: header %v, want alg %s, kid %s, typ at+jwt", alg, is.name, got.header, alg, k.key.ID())
			}
			if exp, iat := got.claims["exp"].(float64), got.claims["iat"].(float64); exp-iat != tokenLifetime.Seconds() {
				t.Errorf("%s %s: exp-iat = %v, want %v", alg, is.name, exp-iat, tokenLifetime.Seconds())
			}
			if i == 0 {
				want = got
				continue
			}
			if g, w := slices.Sorted(maps.Keys(got.claims)), slices.Sorted(maps.Keys(want.claims)); !slices.Equal(g, w) {
				t.Errorf("%s %s: claims %v, scopekit signs %v", alg, is.name, g, w)
			}
			for _, c := range []string{"iss", "sub", "client_id", "azp", "scope", "gty"} {
				if got.claims[c] != want.claims[c] {
					t.Errorf("%s %s: %s = %v, scopekit signs %v", alg, is.name, c, got.claims[c], want.claims[c])
				}
			}
			if g, w := audience(got.claims["aud"]), audience(want.claims["aud"]); !slices.Equal(g, w) {
				t.Errorf("%s %s: aud %v, scopekit signs %v", alg, is.name, g, w)
			}
		}
	}
}

// TestIssuersDecide checks that no Issue row measures an issuer that grants
// whatever is asked: each refuses a scope and an audience outside the
// client's grant.
func TestIssuersDecide(t *testing.T) {
	for _, is := range issuers(t, "ES256") {
		if is.name == "fosite-as-shipped" || is.name == "fosite-bcrypt4" {
			continue // the same handler as fosite-sha256, slower
		}
		for name, form := range map[string]map[string][]string{
			"scope":    {"grant_type": {"client_credentials"}, "scope": {"read admin"}, "audience": {apiID}},
			"audience": {"grant_type": {"client_credentials"}, "scope": {"read"}, "audience": {"https://other.example.com"}},
		} {
			if rec := post(is.h, form); rec.Code == 200 {
				t.Errorf("%s issued a token for an ungranted %s: %s", is.name, name, rec.Body.String())
			}
		}
	}
}

// TestPeerChecks checks that the Verify and Introspect rows of fosite
// measure success paths.
func TestPeerChecks(t *testing.T) {
	ctx := context.Background()
	for _, alg := range []string{"RS256", "ES256"} {
		f := newFosite(t, keyFor(t, alg), fositeSHA256)
		ft := fositeToken(t, f)
		if err := f.strategy.ValidateAccessToken(ctx, nil, ft); err != nil {
			t.Errorf("%s fosite-jwt: %v", alg, err)
		}
		if _, ar, err := f.provider.IntrospectToken(ctx, ft, fosite.AccessToken, newJWTSession()); err != nil ||
			!slices.Equal(ar.GetGrantedScopes(), fosite.Arguments{"read", "write"}) {
			t.Errorf("%s fosite-introspect: %v %v", alg, ar, err)
		}
	}
}

// TestDriverRoundTrips checks the driver rows: issuance and introspection
// succeed on Redis and MongoDB, and on Redis each is one network round
// trip (the target of docs/PERFORMANCE.md).
func TestDriverRoundTrips(t *testing.T) {
	ctx := context.Background()
	bk := startBackends(t)
	k := keyFor(t, "ES256")
	for _, d := range drivers {
		srv := scopekitIssuerOn(t, bk.store(t, d), k, 0)
		c := bk.counter(d)
		before := c.Load()
		raw := scopekitToken(t, srv)
		issue := c.Load() - before
		before = c.Load()
		in, err := srv.Introspect(ctx, raw)
		introspect := c.Load() - before
		if err != nil || !in.Active || in.ClientID != clientID {
			t.Fatalf("%s introspection: %+v %v", d, in, err)
		}
		t.Logf("%s: issuance %d round trips, introspection %d", d, issue, introspect)
		if d == "redis" && (issue != 1 || introspect != 1) {
			t.Errorf("redis: issuance %d round trips, introspection %d; want 1 each", issue, introspect)
		}
	}
}
