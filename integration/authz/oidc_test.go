package authz_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

const spaCB = "http://127.0.0.1/spa/callback"

// newOIDCFixture adds a first-party single-page app allowed the code flow
// and, when implicit is true, the implicit responses.
func newOIDCFixture(t *testing.T, implicit bool) *userFixture {
	f := newUserFixture(t, func(c *authz.Config) { c.ImplicitFlow = implicit })
	_, err := f.srv.CreateClient(context.Background(), &storage.Client{ID: "spa", Name: "SPA", Public: true, FirstParty: true,
		RedirectURIs: []string{spaCB}, GrantTypes: []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code", "id_token", "id_token token"}, IDTokenSigningAlg: token.ES256})
	must(t, err)
	return f
}

func (f *userFixture) spaConfig(scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: "spa", RedirectURL: spaCB, Scopes: scopes, Endpoint: oauth2.Endpoint{
		AuthURL: f.ts.URL + "/authorize", TokenURL: f.ts.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
}

// TestOIDCCodeFlowWithGoOIDC is the relying-party story: discovery, code
// flow with PKCE, ID token verification (signature, audience, nonce,
// at_hash) and /userinfo, all by github.com/coreos/go-oidc unchanged.
func TestOIDCCodeFlowWithGoOIDC(t *testing.T) {
	f := newOIDCFixture(t, false)
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, f.srv.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.spaConfig(oidc.ScopeOpenID, "profile", "email")
	cfg.Endpoint = provider.Endpoint()
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	verifier := oauth2.GenerateVerifier()
	nonce := token.Random(16)
	b := f.browser(t)
	b.login(f, "alice")
	cb := f.authorize(t, b, cfg.AuthCodeURL("st", oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), "alice")
	tok, err := cfg.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idv := provider.Verifier(&oidc.Config{ClientID: "spa"})
	idt, err := idv.Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != nonce || idt.Subject != "alice" {
		t.Fatalf("nonce %q sub %q", idt.Nonce, idt.Subject)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	var claims map[string]any
	must(t, idt.Claims(&claims))
	for _, k := range []string{"name", "nickname", "picture", "updated_at", "email", "email_verified", "auth_time", "iat", "exp"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("ID token lacks %q: %v", k, claims)
		}
	}
	if _, ok := claims["phone_number"]; ok {
		t.Error("phone claim without the phone scope")
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: "other"}).Verify(ctx, raw); err == nil {
		t.Fatal("ID token accepted for another audience")
	}
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var uc map[string]any
	must(t, ui.Claims(&uc))
	if ui.Subject != "alice" || ui.Email != "alice@example.com" || uc["name"] != "Alice A" {
		t.Fatalf("userinfo %+v %v", ui, uc)
	}
}

func TestUserClaimsPerScope(t *testing.T) {
	u := &storage.User{ID: "u", Name: "N", GivenName: "G", Nickname: "nick", Picture: "https://p", Email: "e@x",
		EmailVerified: false, PhoneNumber: "+1", Address: &storage.Address{Country: "FR"}, UpdatedAt: time.Unix(100, 0)}
	cases := []struct {
		scopes []string
		want   []string
	}{
		{[]string{"openid"}, nil},
		{[]string{"openid", "profile"}, []string{"given_name", "name", "nickname", "picture", "updated_at"}},
		{[]string{"openid", "email"}, []string{"email", "email_verified"}},
		{[]string{"openid", "phone"}, []string{"phone_number", "phone_number_verified"}},
		{[]string{"openid", "address"}, []string{"address"}},
		{[]string{"openid", "profile", "email"}, []string{"email", "email_verified", "given_name", "name", "nickname", "picture", "updated_at"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.scopes, "+"), func(t *testing.T) {
			got := authz.UserClaims(u, tc.scopes)
			var keys []string
			for k := range got {
				keys = append(keys, k)
			}
			sortStrings(keys)
			if !reflect.DeepEqual(keys, tc.want) && !(len(keys) == 0 && tc.want == nil) {
				t.Fatalf("claims %v, want %v", keys, tc.want)
			}
		})
	}
	if c := authz.UserClaims(&storage.User{ID: "bare"}, []string{"profile", "email", "phone", "address"}); len(c) != 0 {
		t.Fatalf("claims the user does not have: %v", c)
	}
}

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func TestUserinfoEndpoint(t *testing.T) {
	f := newOIDCFixture(t, false)
	ctx := context.Background()
	get := func(t *testing.T, method, tok string) (int, map[string]any, http.Header) {
		req, _ := http.NewRequest(method, f.ts.URL+"/userinfo", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m, resp.Header
	}
	codeFlow := func(scopes []string, extra ...oauth2.AuthCodeOption) *oauth2.Token {
		cfg := f.spaConfig(scopes...)
		v := oauth2.GenerateVerifier()
		b := f.browser(t)
		b.login(f, "alice")
		cb := f.authorize(t, b, cfg.AuthCodeURL("s", append(extra, oauth2.S256ChallengeOption(v))...), "alice")
		tok, err := cfg.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(v))
		must(t, err)
		return tok
	}
	t.Run("per scope", func(t *testing.T) {
		for _, tc := range []struct {
			scopes []string
			has    string
			lacks  string
		}{
			{[]string{"openid"}, "sub", "email"},
			{[]string{"openid", "email"}, "email", "name"},
			{[]string{"openid", "profile"}, "name", "email"},
		} {
			tok := codeFlow(tc.scopes)
			for _, method := range []string{"GET", "POST"} {
				code, body, _ := get(t, method, tok.AccessToken)
				if code != 200 || body["sub"] != "alice" || body[tc.has] == nil || body[tc.lacks] != nil {
					t.Fatalf("%v %s: %d %v", tc.scopes, method, code, body)
				}
			}
		}
	})
	t.Run("access token for /userinfo when no API is named", func(t *testing.T) {
		tok := codeFlow([]string{"openid"})
		claims := decodePayload(t, tok.AccessToken)
		if claims["aud"] != f.ts.URL+"/userinfo" {
			t.Fatalf("aud %v", claims["aud"])
		}
	})
	t.Run("API audience plus openid", func(t *testing.T) {
		tok := codeFlow([]string{"openid", "view:events"}, oauth2.SetAuthURLParam("audience", eventsAPI))
		if tok.Extra("id_token") == nil {
			t.Fatal("no ID token")
		}
		aud, _ := decodePayload(t, tok.AccessToken)["aud"].([]any)
		if len(aud) != 2 || aud[0] != eventsAPI || aud[1] != f.ts.URL+"/userinfo" {
			t.Fatalf("aud %v", aud)
		}
		if code, _, _ := get(t, "GET", tok.AccessToken); code != 200 {
			t.Fatalf("/userinfo with the API token: %d", code)
		}
	})
	t.Run("bad token", func(t *testing.T) {
		code, _, h := get(t, "GET", "garbage")
		if code != 401 || !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("%d %v", code, h)
		}
		code, _, h = get(t, "GET", "")
		if code != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer realm=") {
			t.Fatalf("%d %v", code, h)
		}
	})
	t.Run("token without openid", func(t *testing.T) {
		tok := codeFlow([]string{"view:events"}, oauth2.SetAuthURLParam("audience", eventsAPI))
		if code, _, _ := get(t, "GET", tok.AccessToken); code != 401 {
			t.Fatalf("an API-only token read /userinfo: %d", code)
		}
	})
}

func TestImplicitFlow(t *testing.T) {
	ctx := context.Background()
	nonce := "n-0S6_WzA2Mj"
	implicitURL := func(f *userFixture, rt, extra string) string {
		return f.ts.URL + "/authorize?client_id=spa&redirect_uri=" + url.QueryEscape(spaCB) + "&scope=openid%20profile%20email" +
			"&response_type=" + url.QueryEscape(rt) + "&state=st" + extra
	}
	t.Run("disabled by default", func(t *testing.T) {
		f := newOIDCFixture(t, false)
		b := f.browser(t)
		b.login(f, "alice")
		cb := b.get(implicitURL(f, "id_token token", "&nonce="+nonce))
		if cb == nil || !strings.Contains(cb.Fragment, "error=unsupported_response_type") {
			t.Fatalf("%v", cb)
		}
		var md authz.Metadata
		getJSON(t, f.ts.URL+"/.well-known/openid-configuration", &md)
		if strings.Join(md.ResponseTypesSupported, ",") != "code" {
			t.Fatalf("discovery lists %v", md.ResponseTypesSupported)
		}
	})
	f := newOIDCFixture(t, true)
	provider, err := oidc.NewProvider(ctx, f.srv.Issuer())
	must(t, err)
	idv := provider.Verifier(&oidc.Config{ClientID: "spa"})
	t.Run("id_token token in the fragment", func(t *testing.T) {
		b := f.browser(t)
		b.login(f, "alice")
		cb := b.get(implicitURL(f, "id_token token", "&nonce="+nonce))
		if cb == nil || cb.RawQuery != "" {
			t.Fatalf("tokens must not travel in the query: %v", cb)
		}
		frag, _ := url.ParseQuery(cb.Fragment)
		idt, err := idv.Verify(ctx, frag.Get("id_token"))
		if err != nil {
			t.Fatal(err)
		}
		if idt.Nonce != nonce || frag.Get("state") != "st" || frag.Get("token_type") != "Bearer" || frag.Get("access_token") == "" {
			t.Fatalf("fragment %v", frag)
		}
		if err := idt.VerifyAccessToken(frag.Get("access_token")); err != nil {
			t.Fatalf("at_hash: %v", err)
		}
	})
	t.Run("id_token alone", func(t *testing.T) {
		b := f.browser(t)
		b.login(f, "alice")
		cb := b.get(implicitURL(f, "id_token", "&nonce="+nonce))
		frag, _ := url.ParseQuery(cb.Fragment)
		if frag.Get("access_token") != "" || frag.Get("id_token") == "" {
			t.Fatalf("fragment %v", frag)
		}
		var c map[string]any
		idt, err := idv.Verify(ctx, frag.Get("id_token"))
		must(t, err)
		must(t, idt.Claims(&c))
		if _, ok := c["at_hash"]; ok {
			t.Fatal("at_hash without an access token")
		}
		if c["email"] != "alice@example.com" || c["name"] != "Alice A" {
			t.Fatalf("standard claims %v", c)
		}
	})
	t.Run("disabled for a client while the server allows it", func(t *testing.T) {
		_, err := f.srv.CreateClient(ctx, &storage.Client{ID: "spa-code", Public: true, FirstParty: true,
			RedirectURIs: []string{spaCB}, GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code", "id_token"}})
		must(t, err)
		for _, rt := range []string{"id_token token", "token"} {
			b := f.browser(t)
			b.login(f, "alice")
			cb := b.get(strings.Replace(implicitURL(f, rt, "&nonce="+nonce), "client_id=spa&", "client_id=spa-code&", 1))
			if cb == nil || !strings.Contains(cb.Fragment, "error=unsupported_response_type") || strings.Contains(cb.Fragment, "id_token=") {
				t.Fatalf("%s: %v", rt, cb)
			}
		}
		b := f.browser(t)
		b.login(f, "alice")
		cb := b.get(strings.Replace(implicitURL(f, "id_token", "&nonce="+nonce), "client_id=spa&", "client_id=spa-code&", 1))
		if cb == nil || !strings.Contains(cb.Fragment, "id_token=") {
			t.Fatalf("the response type the client lists: %v", cb)
		}
	})
	t.Run("nonce required", func(t *testing.T) {
		b := f.browser(t)
		b.login(f, "alice")
		cb := b.get(implicitURL(f, "id_token", ""))
		if cb == nil || !strings.Contains(cb.Fragment, "error=invalid_request") {
			t.Fatalf("%v", cb)
		}
	})
	t.Run("form_post", func(t *testing.T) {
		b := f.browser(t)
		b.login(f, "alice")
		if cb := b.get(implicitURL(f, "id_token", "&nonce="+nonce+"&response_mode=form_post")); cb != nil {
			t.Fatalf("form_post redirected: %v", cb)
		}
		if !strings.Contains(b.body, `action="`+spaCB+`"`) || !strings.Contains(b.body, `name="id_token"`) {
			t.Fatalf("form %q", b.body)
		}
	})
	t.Run("discovery lists it", func(t *testing.T) {
		var md authz.Metadata
		getJSON(t, f.ts.URL+"/.well-known/openid-configuration", &md)
		if strings.Join(md.ResponseTypesSupported, ",") != "code,id_token,id_token token" || md.UserinfoEndpoint == "" ||
			md.AuthorizationEndpoint == "" || len(md.ClaimsSupported) == 0 || !md.AuthorizationResponseIss {
			t.Fatalf("%+v", md)
		}
	})
}

func TestClientIDTokenAlgorithm(t *testing.T) {
	f := newOIDCFixture(t, false)
	ctx := context.Background()
	for _, alg := range []string{"HS256", "none", "RS512", "es256"} {
		_, err := f.srv.CreateClient(ctx, &storage.Client{ID: "bad-" + alg, Public: true, RedirectURIs: []string{spaCB},
			GrantTypes: []string{"authorization_code"}, IDTokenSigningAlg: alg})
		if err == nil || !strings.Contains(err.Error(), "unsupported id_token_signed_response_alg") {
			t.Fatalf("%s accepted: %v", alg, err)
		}
		if _, err := f.store.Clients().Get(ctx, "bad-"+alg); err == nil {
			t.Fatalf("client with %s stored", alg)
		}
	}
	for _, alg := range []string{"", "RS256", "PS256", "ES256", "EdDSA"} {
		_, err := f.srv.CreateClient(ctx, &storage.Client{ID: "ok-" + alg, Public: true, RedirectURIs: []string{spaCB},
			GrantTypes: []string{"authorization_code"}, IDTokenSigningAlg: alg})
		must(t, err)
	}
}
