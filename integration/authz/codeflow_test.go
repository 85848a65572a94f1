package authz_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
)

// exchange runs a code flow for user through a browser and the x/oauth2
// client, PKCE included.
func (f *userFixture) exchange(t testing.TB, client, user string, scopes []string, allow ...string) *oauth2.Token {
	t.Helper()
	cfg := f.oauth(client)
	cfg.Scopes = scopes
	verifier := oauth2.GenerateVerifier()
	u := cfg.AuthCodeURL("st&=ü 1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("audience", audienceOf(client)))
	cb := f.authorize(t, f.browser(t), u, user, allow...)
	if got := cb.Query().Get("state"); got != "st&=ü 1" {
		t.Fatalf("state = %q", got)
	}
	if cb.Query().Get("iss") != f.srv.Issuer() {
		t.Fatalf("iss = %q (RFC 9207)", cb.Query().Get("iss"))
	}
	code := cb.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", cb)
	}
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func audienceOf(client string) string {
	if client == "events-app" {
		return eventsAPI
	}
	return bankUserAPI
}

func TestEventsRBACFirstParty(t *testing.T) {
	f := newUserFixture(t)
	all := []string{"create:events", "update:events", "view:events", "register:events", "offline_access"}
	cases := []struct{ user, want string }{
		{"alice", "create:events update:events offline_access"},
		{"bob", "view:events register:events offline_access"},
	}
	for _, tc := range cases {
		t.Run(tc.user, func(t *testing.T) {
			tok := f.exchange(t, "events-app", tc.user, all)
			if got := tok.Extra("scope"); got != tc.want {
				t.Fatalf("scope = %v, want %q", got, tc.want)
			}
			if tok.RefreshToken == "" {
				t.Fatal("offline_access granted but no refresh token")
			}
			claims := decodePayload(t, tok.AccessToken)
			perms, _ := claims["permissions"].([]any)
			if claims["sub"] != tc.user || claims["gty"] != "authorization_code" || len(perms) != 2 {
				t.Fatalf("claims %v", claims)
			}
			p, err := f.srv.Authorizer(eventsAPI).Authorize(context.Background(), tok.AccessToken, resource.Requirement{AllOf: strings.Fields(tc.want)[:2]})
			if err != nil || p.Subject != tc.user {
				t.Fatalf("%v %+v", err, p)
			}
		})
	}
	if f.logins != 2 {
		t.Fatalf("logins = %d: a first-party app must not show consent", f.logins)
	}
}

func TestBankThirdPartyConsent(t *testing.T) {
	f := newUserFixture(t)
	cfg := f.oauth("bank-app")
	cfg.Scopes = []string{"read:balance", "transfer:funds"}
	b := f.browser(t)
	b.login(f, "alice")
	authURL := cfg.AuthCodeURL("s1", oauth2.SetAuthURLParam("audience", bankUserAPI))

	t.Run("consent page", func(t *testing.T) {
		if cb := b.get(authURL); cb != nil {
			t.Fatalf("third-party app skipped consent: %s", cb)
		}
		h := b.last.Header
		if !strings.Contains(b.body, "PayFast") || !strings.Contains(b.body, "Read your account balance") ||
			h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Fatalf("page %q headers %v", b.body, h)
		}
	})
	t.Run("forged CSRF refused", func(t *testing.T) {
		form := b.consentForm()
		form.Set("csrf", "forged")
		form.Set("decision", "allow")
		if cb := b.post(f.ts.URL+"/authorize/consent", form); cb != nil || b.last.StatusCode != http.StatusForbidden {
			t.Fatalf("%v %d", cb, b.last.StatusCode)
		}
	})
	t.Run("another browser cannot complete it", func(t *testing.T) {
		b.get(authURL)
		form := b.consentForm()
		form.Set("decision", "allow")
		other := f.browser(t)
		other.login(f, "alice")
		if cb := other.post(f.ts.URL+"/authorize/consent", form); cb != nil {
			t.Fatalf("consent completed from another browser: %s", cb)
		}
	})
	var code string
	t.Run("partial grant", func(t *testing.T) {
		b.get(authURL)
		form := b.consentForm()
		form["scope"] = []string{"read:balance"}
		form.Set("decision", "allow")
		cb := b.post(f.ts.URL+"/authorize/consent", form)
		if cb == nil || cb.Query().Get("code") == "" || cb.Query().Get("state") != "s1" {
			t.Fatalf("callback %v body %q", cb, b.body)
		}
		code = cb.Query().Get("code")
		tok, err := cfg.Exchange(context.Background(), code)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Extra("scope") != "read:balance" {
			t.Fatalf("scope %v: the response must say the grant differs", tok.Extra("scope"))
		}
		if tok.RefreshToken != "" {
			t.Fatal("refresh token without offline_access")
		}
		list, err := f.srv.Consents(context.Background(), "alice")
		if err != nil || len(list) != 1 || strings.Join(list[0].Scopes, " ") != "read:balance" {
			t.Fatalf("consents %v %v", list, err)
		}
	})
	t.Run("stored consent skips the page", func(t *testing.T) {
		narrow := f.oauth("bank-app")
		narrow.Scopes = []string{"read:balance"}
		cb := b.get(narrow.AuthCodeURL("s2", oauth2.SetAuthURLParam("audience", bankUserAPI)))
		if cb == nil || cb.Query().Get("code") == "" {
			t.Fatalf("consent asked again for consented scopes: %q", b.body)
		}
	})
	t.Run("prompt=consent asks again", func(t *testing.T) {
		narrow := f.oauth("bank-app")
		narrow.Scopes = []string{"read:balance"}
		if cb := b.get(narrow.AuthCodeURL("s3", oauth2.SetAuthURLParam("audience", bankUserAPI), oauth2.SetAuthURLParam("prompt", "consent"))); cb != nil {
			t.Fatal("prompt=consent skipped the page")
		}
	})
	t.Run("prompt=none without consent", func(t *testing.T) {
		cb := b.get(cfg.AuthCodeURL("s4", oauth2.SetAuthURLParam("audience", bankUserAPI), oauth2.SetAuthURLParam("prompt", "none")))
		if cb == nil || cb.Query().Get("error") != "consent_required" || cb.Query().Get("state") != "s4" {
			t.Fatalf("%v", cb)
		}
	})
	t.Run("prompt=none without session", func(t *testing.T) {
		cb := f.browser(t).get(cfg.AuthCodeURL("s5", oauth2.SetAuthURLParam("audience", bankUserAPI), oauth2.SetAuthURLParam("prompt", "none")))
		if cb == nil || cb.Query().Get("error") != "login_required" || cb.Query().Get("iss") != f.srv.Issuer() {
			t.Fatalf("%v", cb)
		}
	})
	t.Run("deny", func(t *testing.T) {
		b.get(authURL)
		form := b.consentForm()
		form.Set("decision", "deny")
		cb := b.post(f.ts.URL+"/authorize/consent", form)
		if cb == nil || cb.Query().Get("error") != "access_denied" || cb.Query().Get("state") != "s1" || cb.Query().Get("code") != "" {
			t.Fatalf("%v", cb)
		}
	})
	t.Run("revoke consent", func(t *testing.T) {
		must(t, f.srv.RevokeConsent(context.Background(), "alice", "bank-app", bankUserAPI))
		narrow := f.oauth("bank-app")
		narrow.Scopes = []string{"read:balance"}
		if cb := b.get(narrow.AuthCodeURL("s6", oauth2.SetAuthURLParam("audience", bankUserAPI))); cb != nil {
			t.Fatal("consent not asked after revocation")
		}
	})
}

func TestAuthorizeRequestValidation(t *testing.T) {
	f := newUserFixture(t)
	base := f.ts.URL + "/authorize?response_type=code&client_id=bank-app&scope=read:balance&state=x&redirect_uri="
	t.Run("redirect URI variants are error pages", func(t *testing.T) {
		for _, bad := range []string{
			bankCB + "/", strings.ToUpper(bankCB), "https://BANK-APP.example.com/callback", bankCB + "?x=1",
			"https://bank-app.example.com/callback/../callback", "https://bank-app.example.com/%2e%2e/callback",
			"https://evil@bank-app.example.com/callback", "https://bank-app.example.com:8443/callback",
			bankCB + "#frag", "https://bank-app.example.com.evil.com/callback",
		} {
			b := f.browser(t)
			b.login(f, "alice")
			if cb := b.get(base + url.QueryEscape(bad)); cb != nil || b.last.StatusCode != 400 {
				t.Fatalf("%q: redirected to %v (status %d)", bad, cb, b.last.StatusCode)
			}
		}
	})
	t.Run("query variants of a registered query", func(t *testing.T) {
		ctx := context.Background()
		c, _ := f.store.Clients().Get(ctx, "bank-app")
		c.RedirectURIs = append(c.RedirectURIs, "https://bank-app.example.com/cb2?tenant=1")
		must(t, f.store.Clients().Update(ctx, c))
		for _, bad := range []string{"https://bank-app.example.com/cb2?tenant=2", "https://bank-app.example.com/cb2?tenant=1&x=2",
			"https://bank-app.example.com/cb2", "https://bank-app.example.com/cb2?tenant=1#x", "https://bank-app.example.com/cb2?Tenant=1"} {
			b := f.browser(t)
			b.login(f, "alice")
			if cb := b.get(base + url.QueryEscape(bad)); cb != nil || b.last.StatusCode != http.StatusBadRequest || !strings.Contains(b.body, "redirect_uri") {
				t.Fatalf("%q: redirected to %v (status %d) %q", bad, cb, b.last.StatusCode, b.body)
			}
		}
		// The registered one, query included, is accepted: the variants
		// above fail for their difference, not for the query as such.
		b := f.browser(t)
		b.login(f, "alice")
		cb := f.authorize(t, b, base+url.QueryEscape("https://bank-app.example.com/cb2?tenant=1"), "alice")
		if cb.Host != "bank-app.example.com" || cb.Path != "/cb2" || cb.Query().Get("tenant") != "1" || cb.Query().Get("state") != "x" {
			t.Fatalf("registered URI with a query refused: %v %d %q", cb, b.last.StatusCode, b.body)
		}
	})
	t.Run("empty parameters are omitted", func(t *testing.T) {
		// RFC 6749 §3.1: "prompt=" and "nonce=" are as if absent, and an
		// empty "audience" leaves "resource" to name the API.
		b := f.browser(t)
		b.login(f, "alice")
		u := base + url.QueryEscape(bankCB) + "&prompt=&nonce=&audience=&resource=" + url.QueryEscape(bankUserAPI)
		cb := f.authorize(t, b, u, "alice", "read:balance")
		if cb.Query().Get("code") == "" || cb.Query().Get("error") != "" {
			t.Fatalf("callback %v", cb)
		}
	})
	t.Run("loopback port exception", func(t *testing.T) {
		b := f.browser(t)
		b.login(f, "alice")
		cfg := f.oauth("events-app")
		cfg.RedirectURL = "http://127.0.0.1:49152/events/callback"
		v := oauth2.GenerateVerifier()
		cb := b.get(cfg.AuthCodeURL("x", oauth2.S256ChallengeOption(v)))
		if cb == nil || cb.Host != "127.0.0.1:49152" || cb.Query().Get("code") == "" {
			t.Fatalf("native app on an ephemeral port refused: %v %q", cb, b.body)
		}
		cfg.RedirectURL = "http://localhost:49152/events/callback"
		if cb := b.get(cfg.AuthCodeURL("x", oauth2.S256ChallengeOption(v))); cb != nil {
			t.Fatal("the exception applies to loopback IP literals only (RFC 8252 §8.3)")
		}
	})
	t.Run("unknown client is an error page", func(t *testing.T) {
		b := f.browser(t)
		if cb := b.get(f.ts.URL + "/authorize?response_type=code&client_id=ghost&redirect_uri=" + url.QueryEscape(bankCB)); cb != nil || b.last.StatusCode != 401 {
			t.Fatalf("%v %d", cb, b.last.StatusCode)
		}
	})
	redirectErrors := []struct {
		name, query, want string
	}{
		{"plain PKCE", "&code_challenge=" + strings.Repeat("a", 43) + "&code_challenge_method=plain", "invalid_request"},
		{"challenge without method", "&code_challenge=" + strings.Repeat("a", 43), "invalid_request"},
		{"unsupported response type", "&response_type=token", "unsupported_response_type"},
		{"unknown audience", "&audience=https://nope", "invalid_target"},
		{"bad prompt", "&prompt=none%20login", "invalid_request"},
		{"repeated parameter", "&scope=x", "invalid_request"},
	}
	for _, tc := range redirectErrors {
		t.Run(tc.name, func(t *testing.T) {
			b := f.browser(t)
			b.login(f, "alice")
			q := base + url.QueryEscape(bankCB) + tc.query
			if strings.Contains(tc.query, "response_type") {
				q = strings.Replace(q, "response_type=code&", "", 1)
			}
			cb := b.get(q)
			if tc.name == "repeated parameter" {
				if cb != nil || b.last.StatusCode != 400 {
					t.Fatalf("%v", cb)
				}
				return
			}
			if cb != nil && cb.Fragment != "" {
				// Errors for a response type that carries tokens use the fragment.
				cb.RawQuery, cb.Fragment = cb.Fragment, ""
			}
			if cb == nil || cb.Query().Get("error") != tc.want || cb.Query().Get("state") != "x" || cb.Query().Get("iss") == "" {
				t.Fatalf("%v %q", cb, b.body)
			}
		})
	}
	t.Run("public client without PKCE", func(t *testing.T) {
		b := f.browser(t)
		b.login(f, "alice")
		cb := b.get(f.ts.URL + "/authorize?response_type=code&client_id=events-app&state=x&redirect_uri=" + url.QueryEscape(eventsCB))
		if cb == nil || cb.Query().Get("error") != "invalid_request" {
			t.Fatalf("%v", cb)
		}
	})
}

// codeFor runs a bank-app authorization as alice (consent pre-given) and
// returns a fresh code and the verifier used ("" for none).
func (f *userFixture) codeFor(t testing.TB, b *browser, pkce bool, scopes ...string) (code, verifier string) {
	t.Helper()
	cfg := f.oauth("bank-app")
	cfg.Scopes = scopes
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("audience", bankUserAPI)}
	if pkce {
		verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	cb := f.authorize(t, b, cfg.AuthCodeURL("s", opts...), "alice", scopes...)
	return cb.Query().Get("code"), verifier
}

// TestCodeExchangeRules runs with retries off (Config.RetryWindow < 0), as
// every second exchange is then a replay; retry_test.go has them on.
func TestCodeExchangeRules(t *testing.T) {
	f := newUserFixture(t, noRetries)
	b := f.browser(t)
	b.login(f, "alice")
	ctx := context.Background()
	cfg := f.oauth("bank-app")
	scopes := []string{"read:balance", "offline_access"}

	t.Run("replay revokes the first tokens", func(t *testing.T) {
		code, v := f.codeFor(t, b, true, scopes...)
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); !isOAuthError(err, "invalid_grant") {
			t.Fatalf("replay: %v", err)
		}
		if _, err := f.srv.Authorizer(bankUserAPI).Authorize(ctx, tok.AccessToken, resource.Requirement{}); !errors.Is(err, oauth.ErrInvalidToken) {
			t.Fatalf("access token from a replayed code still valid: %v", err)
		}
		if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
			t.Fatalf("refresh token from a replayed code still valid: %v", err)
		}
	})
	t.Run("code of another client", func(t *testing.T) {
		code, v := f.codeFor(t, b, true, scopes...)
		ctx2 := context.Background()
		other, err := f.srv.CreateClient(ctx2, newConfidential("thief", bankCB))
		must(t, err)
		thief := f.oauth("bank-app")
		thief.ClientID, thief.ClientSecret = "thief", other
		if _, err := thief.Exchange(ctx, code, oauth2.VerifierOption(v)); !isOAuthError(err, "invalid_grant") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("wrong verifier", func(t *testing.T) {
		code, _ := f.codeFor(t, b, true, scopes...)
		if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); !isOAuthError(err, "invalid_grant") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("missing verifier", func(t *testing.T) {
		code, _ := f.codeFor(t, b, true, scopes...)
		if _, err := cfg.Exchange(ctx, code); !isOAuthError(err, "invalid_grant") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("verifier without challenge", func(t *testing.T) {
		code, _ := f.codeFor(t, b, false, scopes...)
		if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); !isOAuthError(err, "invalid_grant") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("confidential client without PKCE", func(t *testing.T) {
		code, _ := f.codeFor(t, b, false, scopes...)
		if _, err := cfg.Exchange(ctx, code); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong redirect_uri", func(t *testing.T) {
		code, v := f.codeFor(t, b, true, scopes...)
		c := *cfg
		c.RedirectURL = "https://bank-app.example.com/other"
		if _, err := c.Exchange(ctx, code, oauth2.VerifierOption(v)); !isOAuthError(err, "invalid_grant") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("redirect_uri required when the authorization request sent it", func(t *testing.T) {
		code, v := f.codeFor(t, b, true, scopes...) // x/oauth2 sends redirect_uri
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {v}}
		resp, body := postForm(t, f.ts.URL+"/oauth/token", form, basic("bank-app", f.bankSecret))
		if resp.StatusCode != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("redirect_uri omitted: %d %v (RFC 6749 §4.1.3)", resp.StatusCode, body)
		}
	})
	t.Run("redirect_uri may be omitted when the authorization request did", func(t *testing.T) {
		ac := f.oauth("bank-app")
		ac.RedirectURL, ac.Scopes = "", scopes
		v := oauth2.GenerateVerifier()
		cb := b.get(ac.AuthCodeURL("s", oauth2.SetAuthURLParam("audience", bankUserAPI), oauth2.S256ChallengeOption(v)))
		if cb == nil || cb.String() == "" || !strings.HasPrefix(cb.String(), bankCB+"?") {
			t.Fatalf("authorization without redirect_uri: %v %q", cb, b.body)
		}
		form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "code_verifier": {v}}
		if resp, body := postForm(t, f.ts.URL+"/oauth/token", form, basic("bank-app", f.bankSecret)); resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
	})
	t.Run("code expires", func(t *testing.T) {
		short := newUserFixture(t, func(c *authz.Config) { c.CodeLifetime = 300 * time.Millisecond })
		sb := short.browser(t)
		sb.login(short, "alice")
		code, v := short.codeFor(t, sb, true, "read:balance")
		time.Sleep(500 * time.Millisecond)
		if _, err := short.oauth("bank-app").Exchange(ctx, code, oauth2.VerifierOption(v)); !isOAuthError(err, "invalid_grant") {
			t.Fatalf("expired code: %v", err)
		}
	})
	// Every losing redemption is a replay and revokes the family. The
	// store records a revocation even before the winner has stored the
	// family (a tombstone), and the winner's CreateFamily then fails: no
	// token of a code redeemed concurrently stays usable. So at most one
	// redemption answers 200 (none when a replay revoked the family before
	// the winner stored it), and that one's tokens are revoked.
	t.Run("50 concurrent redemptions", func(t *testing.T) {
		code, v := f.codeFor(t, b, true, scopes...)
		var mu sync.Mutex
		var won []*oauth2.Token
		oks := concurrently(50, func() error {
			tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
			if err != nil {
				if !isOAuthError(err, "invalid_grant") {
					t.Errorf("a losing redemption answered %v, want invalid_grant", err)
				}
				return err
			}
			mu.Lock()
			won = append(won, tok)
			mu.Unlock()
			return nil
		})
		if oks > 1 {
			t.Fatalf("%d redemptions of one code succeeded", oks)
		}
		for _, tok := range won {
			if in, err := f.srv.Introspect(ctx, tok.AccessToken); err != nil || in.Active {
				t.Fatalf("the winner's access token is still active after concurrent replays: %+v %v", in, err)
			}
			if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
				t.Fatalf("the winner's refresh token still works: %v", err)
			}
		}
	})
}

// TestRefreshTokens runs with retries off (Config.RetryWindow < 0), as every
// second use of a token is then a reuse; retry_test.go has them on.
func TestRefreshTokens(t *testing.T) {
	f := newUserFixture(t, noRetries)
	b := f.browser(t)
	b.login(f, "alice")
	ctx := context.Background()
	cfg := f.oauth("bank-app")
	fresh := func() *oauth2.Token {
		code, v := f.codeFor(t, b, true, "read:balance", "transfer:funds", "offline_access")
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
		must(t, err)
		return tok
	}
	refresh := func(rt string, scope ...string) (map[string]any, int) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		if scope != nil {
			form.Set("scope", strings.Join(scope, " "))
		}
		resp, body := postForm(t, f.ts.URL+"/oauth/token", form, basic("bank-app", f.bankSecret))
		return body, resp.StatusCode
	}
	t.Run("rotation", func(t *testing.T) {
		tok := fresh()
		body, code := refresh(tok.RefreshToken)
		if code != 200 || body["refresh_token"] == tok.RefreshToken || body["refresh_token"] == nil {
			t.Fatalf("%d %v", code, body)
		}
		next := body["refresh_token"].(string)
		if _, code := refresh(next); code != 200 {
			t.Fatal("the rotated token does not work")
		}
	})
	t.Run("narrowing allowed, widening refused", func(t *testing.T) {
		tok := fresh()
		body, code := refresh(tok.RefreshToken, "read:balance", "admin")
		if code != 400 || body["error"] != "invalid_scope" {
			t.Fatalf("%d %v", code, body)
		}
		body, code = refresh(tok.RefreshToken, "read:balance")
		if code != 200 || body["scope"] != nil && body["scope"] != "read:balance" {
			t.Fatalf("%d %v", code, body)
		}
		if claims := decodePayload(t, body["access_token"].(string)); claims["scope"] != "read:balance" {
			t.Fatalf("narrowed token scope %v", claims["scope"])
		}
		// RFC 6749 §6: the new refresh token keeps the original scope; only
		// the access token was narrowed. The full scope is still available.
		body, code = refresh(body["refresh_token"].(string), "read:balance", "transfer:funds", "offline_access")
		if code != 200 {
			t.Fatalf("full scope after a narrowed refresh: %d %v", code, body)
		}
		if claims := decodePayload(t, body["access_token"].(string)); claims["scope"] != "read:balance transfer:funds offline_access" {
			t.Fatalf("scope after a narrowed refresh %v", claims["scope"])
		}
		body, code = refresh(body["refresh_token"].(string))
		if code != 200 || decodePayload(t, body["access_token"].(string))["scope"] != "read:balance transfer:funds offline_access" {
			t.Fatalf("refresh without scope after narrowing: %d %v", code, body)
		}
	})
	t.Run("reuse revokes the family", func(t *testing.T) {
		tok := fresh()
		body, _ := refresh(tok.RefreshToken)
		next, access := body["refresh_token"].(string), body["access_token"].(string)
		if body, code := refresh(tok.RefreshToken); code != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("reuse: %d %v", code, body)
		}
		if _, code := refresh(next); code != 400 {
			t.Fatal("the family's newest refresh token survived a reuse")
		}
		if _, err := f.srv.Authorizer(bankUserAPI).Authorize(ctx, access, resource.Requirement{}); err == nil {
			t.Fatal("the family's access token survived a reuse")
		}
	})
	t.Run("bound to the client", func(t *testing.T) {
		tok := fresh()
		other, err := f.srv.CreateClient(ctx, newConfidential("other-app", bankCB))
		must(t, err)
		resp, body := postForm(t, f.ts.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, basic("other-app", other))
		if resp.StatusCode != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
	})
	t.Run("revoking a refresh token revokes its access tokens", func(t *testing.T) {
		tok := fresh()
		resp, _ := postForm(t, f.ts.URL+"/oauth/revoke", url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, basic("bank-app", f.bankSecret))
		if resp.StatusCode != 200 {
			t.Fatal(resp.StatusCode)
		}
		if _, err := f.srv.Authorizer(bankUserAPI).Authorize(ctx, tok.AccessToken, resource.Requirement{}); err == nil {
			t.Fatal("access token survived the revocation of its refresh token")
		}
		in, err := f.srv.Introspect(ctx, tok.RefreshToken)
		if err != nil || in.Active {
			t.Fatalf("%+v %v", in, err)
		}
	})
	t.Run("introspection of a refresh token", func(t *testing.T) {
		tok := fresh()
		in, err := f.srv.Introspect(ctx, tok.RefreshToken)
		if err != nil || !in.Active || in.TokenType != "refresh_token" || in.ClientID != "bank-app" || in.Subject != "alice" {
			t.Fatalf("%+v %v", in, err)
		}
	})
	// Reuse detection (RFC 9700 §4.14.2), no grace window: of concurrent
	// refreshes with one token exactly one rotates it, every other one is a
	// reuse of a rotated token and revokes the family, the winner's new
	// tokens included (docs/LOGIN.md: a client serialises its refreshes).
	t.Run("50 concurrent refreshes", func(t *testing.T) {
		tok := fresh()
		var mu sync.Mutex
		var won map[string]any
		oks := concurrently(50, func() error {
			body, code := refresh(tok.RefreshToken)
			if code != 200 {
				if body["error"] != "invalid_grant" {
					t.Errorf("a losing refresh answered %d %v, want invalid_grant", code, body)
				}
				return errors.New("refused")
			}
			mu.Lock()
			won = body
			mu.Unlock()
			return nil
		})
		if oks != 1 {
			t.Fatalf("%d concurrent refreshes of one token succeeded: the family forked", oks)
		}
		if in, err := f.srv.Introspect(ctx, won["access_token"].(string)); err != nil || in.Active {
			t.Fatalf("the winner's access token is active: the racing refreshes were not treated as reuse: %+v %v", in, err)
		}
		if _, code := refresh(won["refresh_token"].(string)); code != 400 {
			t.Fatalf("the winner's refresh token works after the reuse: %d", code)
		}
	})
	t.Run("idle lifetime", func(t *testing.T) {
		idle := newUserFixture(t, func(c *authz.Config) { c.RefreshIdleLifetime = 800 * time.Millisecond })
		ib := idle.browser(t)
		ib.login(idle, "alice")
		ic := idle.oauth("bank-app")
		code, v := idle.codeFor(t, ib, true, "read:balance", "offline_access")
		tok, err := ic.Exchange(ctx, code, oauth2.VerifierOption(v))
		must(t, err)
		rt := tok.RefreshToken
		for i := 0; i < 2; i++ { // each use within the idle lifetime starts it again
			time.Sleep(450 * time.Millisecond)
			next, err := ic.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
			if err != nil {
				t.Fatalf("refresh %d within the idle lifetime: %v", i, err)
			}
			rt = next.RefreshToken
		}
		time.Sleep(time.Second)
		if _, err := ic.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token(); !isOAuthError(err, "invalid_grant") {
			t.Fatalf("idle refresh token: %v", err)
		}
	})
	t.Run("absolute lifetime", func(t *testing.T) {
		abs := newUserFixture(t, func(c *authz.Config) { c.RefreshAbsoluteLifetime = 900 * time.Millisecond })
		ab := abs.browser(t)
		ab.login(abs, "alice")
		ac := abs.oauth("bank-app")
		code, v := abs.codeFor(t, ab, true, "read:balance", "offline_access")
		tok, err := ac.Exchange(ctx, code, oauth2.VerifierOption(v))
		must(t, err)
		time.Sleep(400 * time.Millisecond)
		next, err := ac.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatal(err)
		}
		if next.Expiry.After(time.Now().Add(600 * time.Millisecond)) {
			t.Fatalf("access token outlives its family: expires %v", next.Expiry)
		}
		time.Sleep(700 * time.Millisecond) // the new token is fresh, the family is over
		if _, err := ac.TokenSource(ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
			t.Fatalf("refresh after the absolute lifetime: %v", err)
		}
	})
}

// lateFamilies delays the first CreateFamily until a RevokeFamily has run:
// the interleaving in which a replay of a code revokes its family before the
// first exchange has stored it.
type lateFamilies struct {
	storage.Store
	once    sync.Once
	revoked chan struct{}
}

func (s *lateFamilies) RevokeFamily(ctx context.Context, id string) error {
	err := s.Store.RevokeFamily(ctx, id)
	s.once.Do(func() { close(s.revoked) })
	return err
}

func (s *lateFamilies) CreateFamily(ctx context.Context, f *storage.Family, first *storage.RefreshToken) error {
	select {
	case <-s.revoked:
	case <-time.After(5 * time.Second):
	}
	return s.Store.CreateFamily(ctx, f, first)
}

// TestCodeReplayBeforeFamilyExists: a replay that revokes the family
// before the first exchange has stored it still leaves no usable token;
// the first exchange answers invalid_grant and issues nothing.
// Depends on storage: RevokeFamily of a family not created yet records the
// revocation and CreateFamily of that id then fails with storage.ErrRevoked.
func TestCodeReplayBeforeFamilyExists(t *testing.T) {
	late := &lateFamilies{revoked: make(chan struct{})}
	f := newUserFixture(t, noRetries, func(c *authz.Config) { late.Store = c.Store; c.Store = late })
	b := f.browser(t)
	b.login(f, "alice")
	ctx := context.Background()
	cfg := f.oauth("bank-app")
	code, v := f.codeFor(t, b, true, "read:balance", "offline_access")
	// Two redemptions: the one that consumes the code waits in
	// CreateFamily until the other, a replay, has revoked the family.
	type result struct {
		tok *oauth2.Token
		err error
	}
	results := make(chan result, 2)
	for i := 0; i < 2; i++ {
		go func() {
			tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
			results <- result{tok, err}
		}()
	}
	for i := 0; i < 2; i++ {
		r := <-results
		if r.err == nil {
			in, ierr := f.srv.Introspect(ctx, r.tok.AccessToken)
			t.Fatalf("tokens issued after a replay revoked the grant (access token active=%v, %v)", in != nil && in.Active, ierr)
		}
		if !isOAuthError(r.err, "invalid_grant") {
			t.Fatalf("redemption: %v, want invalid_grant", r.err)
		}
	}
}

// noRetries turns retries off: a second use of a code or refresh token is
// a replay however soon it comes.
func noRetries(c *authz.Config) { c.RetryWindow = -1 }

func concurrently(n int, f func() error) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	oks := 0
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if f() == nil {
				mu.Lock()
				oks++
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	return oks
}

func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}
