package authz_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
)

// TestClientCredentialsWithOAuth2Client drives the token endpoint with
// golang.org/x/oauth2, both client authentication styles, and calls a
// protected API with the token.
func TestClientCredentialsWithOAuth2Client(t *testing.T) {
	f := newFixture(t)
	api := http.NewServeMux()
	rs := f.srv.Authorizer(usersAPI)
	api.Handle("GET /users", rs.RequireScopes("read:users")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := resource.PrincipalFrom(r.Context())
		_, _ = io.WriteString(w, p.Subject+" "+p.ClientID+" "+p.Scope)
	})))
	api.Handle("POST /users", rs.RequireScopes("write:users")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})))
	for _, style := range []struct {
		name       string
		style      oauth2.AuthStyle
		id, secret string
	}{{"basic", oauth2.AuthStyleInHeader, "reporter", f.secret}, {"post", oauth2.AuthStyleInParams, "poster", f.postSecret}} {
		t.Run(style.name, func(t *testing.T) {
			cc := clientcredentials.Config{
				ClientID: style.id, ClientSecret: style.secret,
				TokenURL:       f.srv.Metadata().TokenEndpoint,
				EndpointParams: url.Values{"audience": {usersAPI}},
				AuthStyle:      style.style,
			}
			ctx := context.Background()
			tok, err := cc.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
				t.Fatalf("token type %q expiry %v", tok.TokenType, tok.Expiry)
			}
			if got := tok.Extra("scope"); got != "read:users" {
				t.Fatalf("scope in response = %v, want read:users (no scope was requested)", got)
			}
			h := httpRoundTrip(t, api, http.MethodGet, "/users", tok.AccessToken)
			if h.Code != http.StatusOK || h.Body.String() != style.id+"@clients "+style.id+" read:users" {
				t.Fatalf("GET /users: %d %q", h.Code, h.Body.String())
			}
			h = httpRoundTrip(t, api, http.MethodPost, "/users", tok.AccessToken)
			if h.Code != http.StatusForbidden || !strings.Contains(h.Header().Get("WWW-Authenticate"), `error="insufficient_scope"`) ||
				!strings.Contains(h.Header().Get("WWW-Authenticate"), `scope="write:users"`) {
				t.Fatalf("POST /users: %d %q", h.Code, h.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

// TestClientCredentialsScopeDecision covers the scope rules of the grant
// and the errors of RFC 6749 §5.2 and RFC 8707.
func TestClientCredentialsScopeDecision(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name      string
		form      url.Values
		wantCode  string
		wantScope string // "" means the response must not carry scope
		status    int
	}{
		{name: "no scope gets all granted", form: url.Values{"audience": {usersAPI}}, wantScope: "read:users"},
		{name: "exact request echoes nothing", form: url.Values{"audience": {usersAPI}, "scope": {"read:users"}}},
		{name: "partial grant says so", form: url.Values{"audience": {usersAPI}, "scope": {"read:users write:users"}}, wantScope: "read:users"},
		{name: "resource parameter", form: url.Values{"resource": {usersAPI}, "scope": {"read:users"}}},
		{name: "second API other alg", form: url.Values{"audience": {bankAPI}, "scope": {"transfer:funds"}}},
		{name: "undefined scope", form: url.Values{"audience": {usersAPI}, "scope": {"delete:users"}}, wantCode: "invalid_scope", status: 400},
		{name: "nothing granted", form: url.Values{"audience": {usersAPI}, "scope": {"write:users"}}, wantCode: "invalid_scope", status: 400},
		{name: "malformed scope", form: url.Values{"audience": {usersAPI}, "scope": {"read:users \"x"}}, wantCode: "invalid_scope", status: 400},
		{name: "unknown audience", form: url.Values{"audience": {"https://nope.example.com"}}, wantCode: "invalid_target", status: 400},
		{name: "no audience", form: url.Values{}, wantCode: "invalid_request", status: 400},
		{name: "audience and resource differ", form: url.Values{"audience": {usersAPI}, "resource": {bankAPI}}, wantCode: "invalid_target", status: 400},
		{name: "relative resource", form: url.Values{"resource": {"users"}}, wantCode: "invalid_target", status: 400},
		{name: "unsupported grant", form: url.Values{"grant_type": {"password"}, "audience": {usersAPI}}, wantCode: "unsupported_grant_type", status: 400},
		{name: "missing grant type", form: url.Values{"grant_type": nil, "audience": {usersAPI}}, wantCode: "invalid_request", status: 400},
		// RFC 6749 §3.1: a parameter without a value is as if omitted.
		{name: "empty scope gets all granted", form: url.Values{"audience": {usersAPI}, "scope": {""}}, wantScope: "read:users"},
		{name: "empty resource is omitted", form: url.Values{"audience": {usersAPI}, "resource": {""}}, wantScope: "read:users"},
		{name: "empty audience is omitted", form: url.Values{"audience": {""}, "resource": {usersAPI}}, wantScope: "read:users"},
		{name: "empty grant type is missing", form: url.Values{"grant_type": {""}, "audience": {usersAPI}}, wantCode: "invalid_request", status: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}}
			for k, v := range tc.form {
				if v == nil {
					delete(form, k) // not sent at all
				} else {
					form[k] = v
				}
			}
			resp, body := postForm(t, f.srv.Metadata().TokenEndpoint, form, basic("reporter", f.secret))
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
			}
			if tc.wantCode != "" {
				if resp.StatusCode != tc.status || body["error"] != tc.wantCode || body["access_token"] != nil {
					t.Fatalf("got %d %v, want %d %s", resp.StatusCode, body, tc.status, tc.wantCode)
				}
				return
			}
			if resp.StatusCode != 200 || body["access_token"] == nil {
				t.Fatalf("got %d %v", resp.StatusCode, body)
			}
			got, _ := body["scope"].(string)
			if got != tc.wantScope {
				t.Fatalf("scope = %q, want %q", got, tc.wantScope)
			}
		})
	}
	t.Run("client without grant for the API", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "audience": {bankAPI}}
		resp, body := postForm(t, f.srv.Metadata().TokenEndpoint, form, basic("other", f.secret2))
		if resp.StatusCode != 400 || body["error"] != "unauthorized_client" {
			t.Fatalf("got %d %v", resp.StatusCode, body)
		}
	})
	t.Run("public client", func(t *testing.T) {
		ctx := context.Background()
		pub := &storage.Client{ID: "spa", Public: true, GrantTypes: []string{"client_credentials", "authorization_code"}}
		_, err := f.srv.CreateClient(ctx, pub)
		must(t, err)
		must(t, f.store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "spa", Audience: usersAPI, Scopes: []string{"read:users"}}))
		resp, body := postForm(t, f.srv.Metadata().TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "client_id": {"spa"}, "audience": {usersAPI}}, nil)
		if resp.StatusCode != 400 || body["error"] != "unauthorized_client" || body["access_token"] != nil {
			t.Fatalf("public client got %d %v", resp.StatusCode, body)
		}
		resp, body = postForm(t, f.srv.Metadata().TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "client_id": {"spa"}, "client_secret": {"guess"}, "audience": {usersAPI}}, nil)
		if resp.StatusCode != 401 || body["error"] != "invalid_client" {
			t.Fatalf("public client with a secret got %d %v", resp.StatusCode, body)
		}
	})
	t.Run("client without the grant type", func(t *testing.T) {
		ctx := context.Background()
		web := &storage.Client{ID: "web", GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"https://app.example.com/cb"}}
		secret, err := f.srv.CreateClient(ctx, web)
		must(t, err)
		must(t, f.store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "web", Audience: usersAPI, Scopes: []string{"read:users"}}))
		resp, body := postForm(t, f.srv.Metadata().TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "audience": {usersAPI}}, basic("web", secret))
		if resp.StatusCode != 400 || body["error"] != "unauthorized_client" || body["access_token"] != nil {
			t.Fatalf("got %d %v", resp.StatusCode, body)
		}
	})
	t.Run("default audience", func(t *testing.T) {
		g := newFixture(t, func(c *authz.Config) { c.DefaultAudience = usersAPI })
		resp, body := postForm(t, g.srv.Metadata().TokenEndpoint, url.Values{"grant_type": {"client_credentials"}}, basic("reporter", g.secret))
		if resp.StatusCode != 200 {
			t.Fatalf("got %d %v", resp.StatusCode, body)
		}
		claims := decodePayload(t, body["access_token"].(string))
		if claims["aud"] != usersAPI || claims["sub"] != "reporter@clients" || claims["gty"] != "client-credentials" ||
			claims["client_id"] != "reporter" || claims["azp"] != "reporter" || claims["jti"] == "" || claims["iss"] != g.srv.Issuer() {
			t.Fatalf("claims %v", claims)
		}
	})
}

// TestTokenEndpointRequestErrors covers malformed requests and client
// authentication failures (RFC 6749 §2.3, §3.2, §5.2).
func TestTokenEndpointRequestErrors(t *testing.T) {
	f := newFixture(t)
	endpoint := f.srv.Metadata().TokenEndpoint
	good := "grant_type=client_credentials&audience=" + url.QueryEscape(usersAPI)
	jsonCreds := `"client_id":"poster","client_secret":"` + f.postSecret + `"`
	cases := []struct {
		name        string
		method      string
		contentType string
		body        string
		header      http.Header
		status      int
		code        string
		challenge   bool
	}{
		{name: "GET", method: "GET", status: 400, code: "invalid_request"},
		{name: "no content type", body: good, status: 400, code: "invalid_request"},
		{name: "text body", contentType: "text/plain", body: good, status: 400, code: "invalid_request"},
		{name: "repeated parameter", body: good + "&audience=x&client_id=reporter&client_secret=" + f.secret, status: 400, code: "invalid_request"},
		{name: "bad form encoding", body: "grant_type=%zz", status: 400, code: "invalid_request"},
		{name: "oversized body", body: good + "&pad=" + strings.Repeat("a", 70<<10), status: 400, code: "invalid_request"},
		{name: "bad JSON", contentType: "application/json", body: `{"grant_type":`, status: 400, code: "invalid_request"},
		{name: "JSON array value", contentType: "application/json", body: `{"grant_type":["client_credentials"]}`, status: 400, code: "invalid_request"},
		{name: "JSON duplicate member", contentType: "application/json", body: `{"grant_type":"client_credentials","audience":"https://nope.example.com","audience":"` + usersAPI + `",` + jsonCreds + `}`, status: 400, code: "invalid_request"},
		{name: "JSON duplicate credential", contentType: "application/json", body: `{"grant_type":"client_credentials","audience":"` + usersAPI + `",` + jsonCreds + `,"client_id":"other"}`, status: 400, code: "invalid_request"},
		{name: "JSON null value", contentType: "application/json", body: `{"grant_type":null}`, status: 400, code: "invalid_request"},
		{name: "JSON object value", contentType: "application/json", body: `{"grant_type":{"a":"b"}}`, status: 400, code: "invalid_request"},
		{name: "JSON not an object", contentType: "application/json", body: `["grant_type","client_credentials"]`, status: 400, code: "invalid_request"},
		{name: "JSON trailing data", contentType: "application/json", body: `{"grant_type":"client_credentials"}{}`, status: 400, code: "invalid_request"},
		{name: "JSON oversized body", contentType: "application/json", body: `{"grant_type":"client_credentials","pad":"` + strings.Repeat("a", 70<<10) + `"}`, status: 400, code: "invalid_request"},
		{name: "empty client_secret is no secret", body: good + "&client_id=reporter&client_secret=", status: 401, code: "invalid_client"},
		{name: "no client", body: good, status: 401, code: "invalid_client"},
		{name: "wrong secret post", body: good + "&client_id=reporter&client_secret=nope", status: 401, code: "invalid_client"},
		{name: "unknown client", body: good + "&client_id=ghost&client_secret=nope", status: 401, code: "invalid_client"},
		{name: "wrong secret basic", body: good, header: basic("reporter", "nope"), status: 401, code: "invalid_client", challenge: true},
		{name: "garbage basic", body: good, header: http.Header{"Authorization": {"Basic !!!"}}, status: 401, code: "invalid_client", challenge: true},
		{name: "two auth methods", body: good + "&client_secret=" + f.secret, header: basic("reporter", f.secret), status: 400, code: "invalid_request"},
		{name: "secret of another client", body: good + "&client_id=reporter&client_secret=" + f.secret2, status: 401, code: "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "POST"
			}
			req, _ := http.NewRequest(method, endpoint, strings.NewReader(tc.body))
			ct := tc.contentType
			if ct == "" && tc.name != "no content type" {
				ct = "application/x-www-form-urlencoded"
			}
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			for k, v := range tc.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tc.status || body["error"] != tc.code || body["access_token"] != nil {
				t.Fatalf("got %d %v, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
			if got := resp.Header.Get("WWW-Authenticate"); (got != "") != tc.challenge || tc.challenge && !strings.HasPrefix(got, "Basic realm=") {
				t.Fatalf("WWW-Authenticate = %q", got)
			}
		})
	}
	t.Run("JSON body works", func(t *testing.T) {
		b, _ := json.Marshal(map[string]string{"grant_type": "client_credentials", "client_id": "poster", "client_secret": f.postSecret, "audience": usersAPI})
		resp, err := http.Post(endpoint, "application/json", strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("JSON empty scope is omitted", func(t *testing.T) {
		body := `{"grant_type":"client_credentials","audience":"` + usersAPI + `","scope":"",` + jsonCreds + `}`
		resp, err := http.Post(endpoint, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&got)
		if resp.StatusCode != 200 || got["scope"] != "read:users" {
			t.Fatalf("%d %v", resp.StatusCode, got)
		}
	})
}

func TestIssueInProcessErrorsAreTyped(t *testing.T) {
	f := newFixture(t)
	_, err := f.srv.Issue(context.Background(), &authz.TokenRequest{GrantType: "client_credentials", ClientID: "reporter", ClientSecret: "x", AuthMethod: oauth.AuthBasic, Audience: usersAPI})
	if !errors.Is(err, oauth.ErrInvalidClient) {
		t.Fatalf("err = %v", err)
	}
}
