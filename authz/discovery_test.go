package authz_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz"
)

func getJSON(t *testing.T, u string, v any) *http.Response {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	must(t, json.NewDecoder(resp.Body).Decode(v))
	return resp
}

func TestDiscoveryAndJWKS(t *testing.T) {
	f := newFixture(t)
	base := strings.TrimSuffix(f.srv.Issuer(), "/")
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		t.Run(path, func(t *testing.T) {
			var md map[string]any
			resp := getJSON(t, base+path, &md)
			if resp.StatusCode != 200 || md["issuer"] != f.srv.Issuer() || md["token_endpoint"] != base+"/oauth/token" ||
				md["jwks_uri"] != base+"/.well-known/jwks.json" || md["introspection_endpoint"] != base+"/oauth/introspect" ||
				md["revocation_endpoint"] != base+"/oauth/revoke" {
				t.Fatalf("%d %v", resp.StatusCode, md)
			}
			gts, _ := md["grant_types_supported"].([]any)
			if len(gts) != 1 || gts[0] != "client_credentials" {
				t.Fatalf("grant_types_supported = %v: must list exactly what is enabled", gts)
			}
			if _, ok := md["authorization_endpoint"]; ok {
				t.Fatalf("authorization_endpoint advertised without a user-facing grant")
			}
		})
	}
	t.Run("jwks is public only", func(t *testing.T) {
		var set struct{ Keys []map[string]any }
		getJSON(t, base+"/.well-known/jwks.json", &set)
		if len(set.Keys) < 2 {
			t.Fatalf("want the RS256 and ES256 keys, got %d", len(set.Keys))
		}
		for _, k := range set.Keys {
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := k[private]; ok {
					t.Fatalf("JWKS leaks private member %q", private)
				}
			}
			if k["kid"] == "" || k["alg"] == "" || k["use"] != "sig" {
				t.Fatalf("key %v", k)
			}
		}
	})
}

// TestRemoteAuthorizer checks a token against the issuer over HTTP:
// discovery, then the JWKS, as an API in another process would.
func TestRemoteAuthorizer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rs, err := authz.NewRemoteAuthorizer(ctx, authz.RemoteConfig{Issuer: f.srv.Issuer(), Audience: usersAPI})
	must(t, err)
	tok := f.issue(t, usersAPI).AccessToken
	p, err := rs.Authorize(ctx, tok, authz.Requirement{AllOf: []string{"read:users"}})
	if err != nil || p.Subject != "reporter@clients" {
		t.Fatalf("%v %+v", err, p)
	}
	if _, err := rs.Authorize(ctx, tok, authz.Requirement{AllOf: []string{"write:users"}}); err == nil {
		t.Fatal("missing scope accepted")
	}
	t.Run("ES256 needs an explicit allow-list", func(t *testing.T) {
		bankRS, err := authz.NewRemoteAuthorizer(ctx, authz.RemoteConfig{Issuer: f.srv.Issuer(), Audience: bankAPI})
		must(t, err)
		bankTok := f.issue(t, bankAPI).AccessToken
		if _, err := bankRS.Authorize(ctx, bankTok, authz.Requirement{}); err == nil {
			t.Fatal("ES256 token accepted by an RS256-only authorizer")
		}
		bankRS, err = authz.NewRemoteAuthorizer(ctx, authz.RemoteConfig{Issuer: f.srv.Issuer(), Audience: bankAPI, Algorithms: []string{"ES256"}})
		must(t, err)
		if _, err := bankRS.Authorize(ctx, bankTok, authz.Requirement{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("issuer mismatch in discovery", func(t *testing.T) {
		_, err := authz.NewRemoteAuthorizer(ctx, authz.RemoteConfig{Issuer: strings.TrimSuffix(f.srv.Issuer(), "/"), Audience: usersAPI})
		if err == nil {
			t.Fatal("discovery naming another issuer accepted")
		}
	})
}
