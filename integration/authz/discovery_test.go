package authz_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage/memory"
	"github.com/scopekit/scopekit/token"
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
	t.Run("RFC 8414 metadata", func(t *testing.T) {
		var md map[string]any
		resp := getJSON(t, base+"/.well-known/oauth-authorization-server", &md)
		if resp.StatusCode != 200 || md["issuer"] != f.srv.Issuer() || md["token_endpoint"] != base+"/oauth/token" ||
			md["jwks_uri"] != base+"/.well-known/jwks.json" || md["introspection_endpoint"] != base+"/oauth/introspect" ||
			md["revocation_endpoint"] != base+"/oauth/revoke" {
			t.Fatalf("%d %v", resp.StatusCode, md)
		}
		gts, _ := md["grant_types_supported"].([]any)
		if len(gts) != 1 || gts[0] != "client_credentials" {
			t.Fatalf("grant_types_supported = %v: must list exactly what is enabled", gts)
		}
		for _, k := range []string{"authorization_endpoint", "userinfo_endpoint", "subject_types_supported", "id_token_signing_alg_values_supported"} {
			if _, ok := md[k]; ok {
				t.Fatalf("%s advertised by a server that is not an OpenID Provider", k)
			}
		}
	})
	t.Run("no OpenID configuration without an OpenID Provider", func(t *testing.T) {
		resp, err := http.Get(base + "/.well-known/openid-configuration")
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d: an OIDC discovery document needs authorization_endpoint (OIDC Discovery §3)", resp.StatusCode)
		}
	})
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
	rs, err := resource.NewRemote(ctx, resource.RemoteConfig{Issuer: f.srv.Issuer(), Audience: usersAPI})
	must(t, err)
	tok := f.issue(t, usersAPI).AccessToken
	p, err := rs.Authorize(ctx, tok, resource.Requirement{AllOf: []string{"read:users"}})
	if err != nil || p.Subject != "reporter@clients" {
		t.Fatalf("%v %+v", err, p)
	}
	if _, err := rs.Authorize(ctx, tok, resource.Requirement{AllOf: []string{"write:users"}}); err == nil {
		t.Fatal("missing scope accepted")
	}
	t.Run("ES256 needs an explicit allow-list", func(t *testing.T) {
		bankRS, err := resource.NewRemote(ctx, resource.RemoteConfig{Issuer: f.srv.Issuer(), Audience: bankAPI})
		must(t, err)
		bankTok := f.issue(t, bankAPI).AccessToken
		if _, err := bankRS.Authorize(ctx, bankTok, resource.Requirement{}); err == nil {
			t.Fatal("ES256 token accepted by an RS256-only authorizer")
		}
		bankRS, err = resource.NewRemote(ctx, resource.RemoteConfig{Issuer: f.srv.Issuer(), Audience: bankAPI, Algorithms: []string{"ES256"}})
		must(t, err)
		if _, err := bankRS.Authorize(ctx, bankTok, resource.Requirement{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("issuer mismatch in discovery", func(t *testing.T) {
		_, err := resource.NewRemote(ctx, resource.RemoteConfig{Issuer: strings.TrimSuffix(f.srv.Issuer(), "/"), Audience: usersAPI})
		if err == nil {
			t.Fatal("discovery naming another issuer accepted")
		}
	})
}

// TestDiscoveryFollowsConfiguration checks that both metadata documents
// list exactly what each configuration enables, field by field.
func TestDiscoveryFollowsConfiguration(t *testing.T) {
	login := authz.LoginFuncs{
		SessionFunc:   func(*http.Request) (*authz.Session, error) { return nil, nil },
		ChallengeFunc: func(w http.ResponseWriter, _ *http.Request, _ string) { w.WriteHeader(http.StatusUnauthorized) },
	}
	allAlgs := []string{"RS256", "PS256", "ES256", "EdDSA"}
	oidcScopes := []string{"openid", "profile", "email", "address", "phone"}
	standard := []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
		"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at",
		"email", "email_verified", "address", "phone_number", "phone_number_verified"}
	modes := []string{"query", "fragment", "form_post"}
	for _, tc := range []struct {
		name     string
		grants   []authz.Grant
		login    bool
		implicit bool
		keys     *token.KeySet
		want     authz.Metadata // endpoints are checked separately
		op       bool
	}{
		{name: "client credentials only", grants: []authz.Grant{grant.ClientCredentials{}},
			want: authz.Metadata{GrantTypesSupported: []string{"client_credentials"}, ResponseTypesSupported: []string{}}},
		{name: "implicit flag without a login", grants: []authz.Grant{grant.ClientCredentials{}}, implicit: true,
			want: authz.Metadata{GrantTypesSupported: []string{"client_credentials"}, ResponseTypesSupported: []string{}}},
		{name: "code flow", grants: []authz.Grant{grant.ClientCredentials{}, grant.AuthorizationCode{}}, login: true, op: true,
			want: authz.Metadata{GrantTypesSupported: []string{"client_credentials", "authorization_code"},
				ResponseTypesSupported: []string{"code"}, ResponseModesSupported: modes, ScopesSupported: oidcScopes,
				ClaimsSupported: standard, SubjectTypesSupported: []string{"public"}, IDTokenSigningAlgValuesSupported: allAlgs}},
		{name: "code flow and refresh", grants: []authz.Grant{grant.ClientCredentials{}, grant.AuthorizationCode{}, grant.RefreshToken{}},
			login: true, op: true,
			want: authz.Metadata{GrantTypesSupported: []string{"client_credentials", "authorization_code", "refresh_token"},
				ResponseTypesSupported: []string{"code"}, ResponseModesSupported: modes,
				ScopesSupported: append(append([]string{}, oidcScopes...), "offline_access"),
				ClaimsSupported: standard, SubjectTypesSupported: []string{"public"}, IDTokenSigningAlgValuesSupported: allAlgs}},
		{name: "code flow, refresh and implicit", grants: []authz.Grant{grant.ClientCredentials{}, grant.AuthorizationCode{}, grant.RefreshToken{}},
			login: true, implicit: true, op: true,
			want: authz.Metadata{GrantTypesSupported: []string{"client_credentials", "authorization_code", "refresh_token", "implicit"},
				ResponseTypesSupported: []string{"code", "id_token", "id_token token"}, ResponseModesSupported: modes,
				ScopesSupported: append(append([]string{}, oidcScopes...), "offline_access"),
				ClaimsSupported: standard, SubjectTypesSupported: []string{"public"}, IDTokenSigningAlgValuesSupported: allAlgs}},
		{name: "code flow with fixed keys", grants: []authz.Grant{grant.AuthorizationCode{}}, login: true, op: true,
			keys: fixedKeys(t, "ES256"),
			want: authz.Metadata{GrantTypesSupported: []string{"authorization_code"},
				ResponseTypesSupported: []string{"code"}, ResponseModesSupported: modes, ScopesSupported: oidcScopes,
				ClaimsSupported: standard, SubjectTypesSupported: []string{"public"}, IDTokenSigningAlgValuesSupported: []string{"ES256"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewUnstartedServer(nil)
			ts.Start()
			defer ts.Close()
			cfg := authz.Config{Issuer: ts.URL + "/", Store: memory.New(), Grants: tc.grants, ImplicitFlow: tc.implicit, Keys: tc.keys}
			if tc.login {
				cfg.Login = login
			}
			srv, err := authz.New(t.Context(), cfg)
			must(t, err)
			ts.Config.Handler = srv.Handler()
			var md authz.Metadata
			if resp := getJSON(t, ts.URL+"/.well-known/oauth-authorization-server", &md); resp.StatusCode != 200 {
				t.Fatalf("RFC 8414 metadata: %d", resp.StatusCode)
			}
			got := []any{md.GrantTypesSupported, md.ResponseTypesSupported, md.ResponseModesSupported, md.ScopesSupported,
				md.ClaimsSupported, md.SubjectTypesSupported, md.IDTokenSigningAlgValuesSupported}
			want := []any{tc.want.GrantTypesSupported, tc.want.ResponseTypesSupported, tc.want.ResponseModesSupported, tc.want.ScopesSupported,
				tc.want.ClaimsSupported, tc.want.SubjectTypesSupported, tc.want.IDTokenSigningAlgValuesSupported}
			names := []string{"grant_types", "response_types", "response_modes", "scopes", "claims", "subject_types", "id_token_signing_algs"}
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("%s_supported = %v, want %v", names[i], got[i], want[i])
				}
			}
			base := ts.URL
			if md.Issuer != base+"/" || md.TokenEndpoint != base+"/oauth/token" || md.JWKSURI != base+"/.well-known/jwks.json" ||
				md.IntrospectionEndpoint != base+"/oauth/introspect" || md.RevocationEndpoint != base+"/oauth/revoke" {
				t.Errorf("endpoints %+v", md)
			}
			if tc.op != (md.AuthorizationEndpoint == base+"/authorize") || tc.op != (md.UserinfoEndpoint == base+"/userinfo") {
				t.Errorf("authorization_endpoint %q userinfo_endpoint %q", md.AuthorizationEndpoint, md.UserinfoEndpoint)
			}
			if tc.op != md.AuthorizationResponseIss || tc.op != reflect.DeepEqual(md.CodeChallengeMethodsSupported, []string{"S256"}) {
				t.Errorf("iss parameter %v, PKCE %v", md.AuthorizationResponseIss, md.CodeChallengeMethodsSupported)
			}
			var oidcMD authz.Metadata
			resp, err := http.Get(ts.URL + "/.well-known/openid-configuration")
			must(t, err)
			defer resp.Body.Close()
			switch {
			case !tc.op && resp.StatusCode != http.StatusNotFound:
				t.Fatalf("openid-configuration served by a server that is not an OpenID Provider: %d", resp.StatusCode)
			case tc.op:
				must(t, json.NewDecoder(resp.Body).Decode(&oidcMD))
				if !reflect.DeepEqual(oidcMD, md) {
					t.Fatalf("the two documents differ:\n%+v\n%+v", oidcMD, md)
				}
			}
		})
	}
}

// fixedKeys is a Config.Keys set with one key per algorithm.
func fixedKeys(t *testing.T, algs ...string) *token.KeySet {
	set := token.NewKeySet()
	for _, alg := range algs {
		k, err := token.GenerateKey(alg)
		must(t, err)
		set.Add(k)
	}
	return set
}
