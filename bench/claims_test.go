package bench

import (
	"github.com/scopekit/scopekit/bench/internal/peers"

	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/ory/fosite"
)

// TestClaimSetsAgree keeps the comparison honest: every issuer of the Issue
// rows answers the benchmark request with a token signed by the same key,
// with the same header (alg, kid, typ) and the same claim names and values
// as scopekit's (peers.CheckToken), except the per-token jti, iat and exp,
// aud's encoding (fosite, go-oauth2 and zitadel write an array), and the
// deviations no setting of a peer removes (peers.DeviationOf).
func TestClaimSetsAgree(t *testing.T) {
	for _, alg := range algs {
		k := keyFor(t, alg)
		for _, is := range issuers(t, alg) {
			rec := post(is.h, ccForm)
			var body struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); rec.Code != 200 || err != nil || body.AccessToken == "" {
				t.Fatalf("%s %s: %d %s", alg, is.name, rec.Code, rec.Body.String())
			}
			if err := peers.CheckToken(body.AccessToken, k, peers.DeviationOf(is.name)); err != nil {
				t.Errorf("%s %s: %v", alg, is.name, err)
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
		f := newFosite(t, keyFor(t, alg), peers.FositeSHA256)
		ft := fositeToken(t, f)
		if err := f.Strategy.ValidateAccessToken(ctx, nil, ft); err != nil {
			t.Errorf("%s fosite-jwt: %v", alg, err)
		}
		if _, ar, err := f.Provider.IntrospectToken(ctx, ft, fosite.AccessToken, peers.NewJWTSession()); err != nil ||
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
