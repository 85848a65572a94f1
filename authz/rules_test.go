package authz_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
)

const ns = "https://myapp.example.com/"

func rule(name string, run func(ctx context.Context, t *authz.Transaction) error) authz.Rule {
	return authz.Rule{Name: name, Run: run}
}

// withRules adds rules, and the reporter machine client, to a user fixture.
func newRulesFixture(t *testing.T, mutate func(*authz.Config), rules ...authz.Rule) (*userFixture, string) {
	f := newUserFixture(t, func(c *authz.Config) {
		c.Rules = rules
		if mutate != nil {
			mutate(c)
		}
	})
	ctx := context.Background()
	secret, err := f.srv.CreateClient(ctx, &storage.Client{ID: "reporter", GrantTypes: []string{"client_credentials"}})
	must(t, err)
	must(t, f.store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "reporter", Audience: bankUserAPI, Scopes: []string{"read:balance", "transfer:funds"}}))
	return f, secret
}

func ccForm(aud, scope string) url.Values {
	v := url.Values{"grant_type": {"client_credentials"}, "audience": {aud}}
	if scope != "" {
		v.Set("scope", scope)
	}
	return v
}

func TestRuleOrderingAndClaims(t *testing.T) {
	var sawRemoval atomic.Bool
	f, secret := newRulesFixture(t, nil,
		rule("first", func(_ context.Context, tx *authz.Transaction) error {
			tx.RemoveScope("transfer:funds")
			tx.SetAccessTokenClaim(ns+"tier", "gold")
			tx.SetAccessTokenClaim("sub", "attacker")                  // registered: never set
			tx.SetAccessTokenClaim("scope", "admin")                   // registered: never set
			tx.SetAccessTokenClaim("plain_name", 1)                    // not namespaced
			tx.SetAccessTokenClaim("https://partner.example.org/x", 1) // another namespace: kept
			tx.SetAccessTokenClaim("http://127.0.0.1/x", 1)            // the issuer's own host
			return nil
		}),
		rule("second", func(_ context.Context, tx *authz.Transaction) error {
			sawRemoval.Store(!tx.HasScope("transfer:funds"))
			if err := tx.AddScope("delete:everything"); err == nil {
				return errors.New("AddScope invented a scope")
			}
			return nil
		}),
	)
	resp, body := postForm(t, f.ts.URL+"/oauth/token", ccForm(bankUserAPI, "read:balance transfer:funds"), basic("reporter", secret))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
	if !sawRemoval.Load() {
		t.Fatal("the second rule did not see the first rule's change")
	}
	if body["scope"] != "read:balance" {
		t.Fatalf("scope %v: the response must say a rule removed a scope", body["scope"])
	}
	c := decodePayload(t, body["access_token"].(string))
	if c[ns+"tier"] != "gold" || c["sub"] != "reporter@clients" || c["scope"] != "read:balance" || c["plain_name"] != nil {
		t.Fatalf("claims %v", c)
	}
	if c["https://partner.example.org/x"] != 1.0 || c["http://127.0.0.1/x"] != nil {
		t.Fatalf("namespaces: %v", c)
	}
}

func TestRuleTriggers(t *testing.T) {
	var mu sync.Mutex
	seen := map[authz.Trigger]int{}
	f, secret := newRulesFixture(t, func(c *authz.Config) { c.ImplicitFlow = true },
		rule("count", func(_ context.Context, tx *authz.Transaction) error {
			mu.Lock()
			seen[tx.Trigger]++
			mu.Unlock()
			if tx.Trigger != authz.TriggerClientCredentials && (tx.User == nil || tx.User.ID != "alice") {
				return errors.New("user flows must carry the user")
			}
			return nil
		}))
	ctx := context.Background()
	postForm(t, f.ts.URL+"/oauth/token", ccForm(bankUserAPI, ""), basic("reporter", secret))
	b := f.browser(t)
	b.login(f, "alice")
	code, v := f.codeFor(t, b, true, "read:balance", "offline_access")
	tok, err := f.oauth("bank-app").Exchange(ctx, code, oauth2.VerifierOption(v))
	must(t, err)
	if _, err := f.oauth("bank-app").TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Fatal(err)
	}
	want := map[authz.Trigger]int{authz.TriggerClientCredentials: 1, authz.TriggerLogin: 1, authz.TriggerRefresh: 1}
	mu.Lock()
	defer mu.Unlock()
	for tr, n := range want {
		if seen[tr] != n {
			t.Fatalf("triggers seen %v, want %v (the code exchange must not re-run login rules)", seen, want)
		}
	}
}

func TestRuleAddsBackRBACRefusedScope(t *testing.T) {
	f, _ := newRulesFixture(t, nil, rule("vip", func(_ context.Context, tx *authz.Transaction) error {
		if tx.User != nil && tx.User.ID == "bob" {
			return tx.AddScope("create:events") // requested, defined, refused by RBAC
		}
		return nil
	}))
	tok := f.exchange(t, "events-app", "bob", []string{"create:events", "view:events"})
	if got := decodePayload(t, tok.AccessToken)["scope"]; got != "view:events create:events" {
		t.Fatalf("scope %v", got)
	}
}

func TestStrictClaims(t *testing.T) {
	f, secret := newRulesFixture(t, func(c *authz.Config) { c.StrictClaims = true },
		rule("bad", func(_ context.Context, tx *authz.Transaction) error {
			tx.SetAccessTokenClaim("favorite_color", "blue")
			return nil
		}))
	resp, body := postForm(t, f.ts.URL+"/oauth/token", ccForm(bankUserAPI, ""), basic("reporter", secret))
	if resp.StatusCode != 500 || body["error"] != "server_error" || body["access_token"] != nil {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
}

func TestCustomClaimsCap(t *testing.T) {
	f, secret := newRulesFixture(t, func(c *authz.Config) { c.MaxCustomClaimsBytes = 100 },
		rule("big", func(_ context.Context, tx *authz.Transaction) error {
			tx.SetAccessTokenClaim(ns+"small", "ok")
			tx.SetAccessTokenClaim(ns+"big", strings.Repeat("x", 200))
			return nil
		}))
	_, body := postForm(t, f.ts.URL+"/oauth/token", ccForm(bankUserAPI, ""), basic("reporter", secret))
	c := decodePayload(t, body["access_token"].(string))
	if c[ns+"small"] != "ok" || c[ns+"big"] != nil {
		t.Fatalf("claims %v", c)
	}
}

func TestRuleDeny(t *testing.T) {
	deny := rule("deny-bob", func(_ context.Context, tx *authz.Transaction) error {
		if tx.User != nil && tx.User.ID == "alice" || tx.Trigger == authz.TriggerClientCredentials {
			return tx.Deny("accounts are frozen")
		}
		return nil
	})
	f, secret := newRulesFixture(t, nil, deny)
	t.Run("token endpoint", func(t *testing.T) {
		resp, body := postForm(t, f.ts.URL+"/oauth/token", ccForm(bankUserAPI, ""), basic("reporter", secret))
		if resp.StatusCode != 403 || body["error"] != "access_denied" || body["error_description"] != "accounts are frozen" {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
	})
	t.Run("code flow", func(t *testing.T) {
		b := f.browser(t)
		b.login(f, "alice")
		cfg := f.oauth("bank-app")
		cfg.Scopes = []string{"read:balance"}
		cb := f.authorize(t, b, cfg.AuthCodeURL("st8", oauth2.SetAuthURLParam("audience", bankUserAPI)), "alice", "read:balance")
		q := cb.Query()
		if q.Get("error") != "access_denied" || q.Get("state") != "st8" || q.Get("iss") != f.srv.Issuer() || q.Get("code") != "" {
			t.Fatalf("%v", cb)
		}
	})
}

func TestRuleFailuresIssueNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(ctx context.Context, tx *authz.Transaction) error
	}{
		{"panic", func(_ context.Context, tx *authz.Transaction) error {
			if tx.Trigger != authz.TriggerLogin {
				panic("boom")
			}
			return nil
		}},
		{"timeout", func(ctx context.Context, tx *authz.Transaction) error {
			if tx.Trigger != authz.TriggerLogin {
				time.Sleep(500 * time.Millisecond)
				tx.SetAccessTokenClaim(ns+"late", true)
			}
			return nil
		}},
		{"error", func(_ context.Context, tx *authz.Transaction) error {
			if tx.Trigger != authz.TriggerLogin {
				return errors.New("crm unreachable")
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, secret := newRulesFixture(t, func(c *authz.Config) { c.RuleTimeout = 100 * time.Millisecond }, rule(tc.name, tc.run))
			resp, body := postForm(t, f.ts.URL+"/oauth/token", ccForm(bankUserAPI, ""), basic("reporter", secret))
			if resp.StatusCode != 500 || body["error"] != "server_error" || body["access_token"] != nil {
				t.Fatalf("client credentials: %d %v", resp.StatusCode, body)
			}
			if d, _ := body["error_description"].(string); strings.Contains(d, "crm") || strings.Contains(d, "boom") {
				t.Fatal("the rule's error leaked")
			}
			// Refresh: the failure must not rotate (store) anything.
			ctx := context.Background()
			b := f.browser(t)
			b.login(f, "alice")
			code, v := f.codeFor(t, b, true, "read:balance", "offline_access")
			tok, err := f.oauth("bank-app").Exchange(ctx, code, oauth2.VerifierOption(v))
			must(t, err)
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
			resp, body = postForm(t, f.ts.URL+"/oauth/token", form, basic("bank-app", f.bankSecret))
			if resp.StatusCode != 500 || body["refresh_token"] != nil {
				t.Fatalf("refresh: %d %v", resp.StatusCode, body)
			}
			in, err := f.srv.Introspect(ctx, tok.RefreshToken)
			if err != nil || !in.Active {
				t.Fatalf("a failed rule rotated the refresh token: %+v %v", in, err)
			}
		})
	}
	t.Run("login panic stores no code", func(t *testing.T) {
		f, _ := newRulesFixture(t, nil, rule("boom", func(context.Context, *authz.Transaction) error { panic("boom") }))
		b := f.browser(t)
		b.login(f, "alice")
		cfg := f.oauth("bank-app")
		cfg.Scopes = []string{"read:balance"}
		cb := f.authorize(t, b, cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("audience", bankUserAPI)), "alice", "read:balance")
		if cb.Query().Get("error") != "server_error" || cb.Query().Get("code") != "" {
			t.Fatalf("%v", cb)
		}
	})
}

func TestUserinfoDoesNotRerunRules(t *testing.T) {
	var runs atomic.Int32
	f, _ := newRulesFixture(t, nil, rule("favorite", func(_ context.Context, tx *authz.Transaction) error {
		runs.Add(1)
		tx.SetIDTokenClaim(ns+"favorite_color", "blue")
		return nil
	}))
	_, err := f.srv.CreateClient(context.Background(), &storage.Client{ID: "spa", Public: true, FirstParty: true,
		RedirectURIs: []string{spaCB}, GrantTypes: []string{"authorization_code"}})
	must(t, err)
	tok := func() *oauth2.Token {
		cfg := f.spaConfig("openid", "email")
		v := oauth2.GenerateVerifier()
		b := f.browser(t)
		b.login(f, "alice")
		cb := f.authorize(t, b, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), "alice")
		tok, err := cfg.Exchange(context.Background(), cb.Query().Get("code"), oauth2.VerifierOption(v))
		must(t, err)
		return tok
	}()
	if decodePayload(t, tok.Extra("id_token").(string))[ns+"favorite_color"] != "blue" {
		t.Fatal("ID token lacks the rule's claim")
	}
	before := runs.Load()
	for i := 0; i < 3; i++ {
		rec := httpRoundTrip(t, f.srv.Handler(), "GET", "/userinfo", tok.AccessToken)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"https://myapp.example.com/favorite_color":"blue"`) {
			t.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
	}
	if runs.Load() != before {
		t.Fatalf("/userinfo ran the rules %d times", runs.Load()-before)
	}
}

func TestExplain(t *testing.T) {
	f, _ := newRulesFixture(t, nil,
		rule("limit-by-role", func(_ context.Context, tx *authz.Transaction) error {
			tx.RemoveScope("update:events")
			return nil
		}),
		rule("favorite", func(_ context.Context, tx *authz.Transaction) error {
			tx.SetIDTokenClaim(ns+"favorite_color", "blue")
			tx.SetAccessTokenClaim("favorite_color", "blue")
			return nil
		}))
	ex, err := f.srv.Explain(context.Background(), authz.ExplainRequest{ClientID: "events-app", UserID: "alice",
		Audience: eventsAPI, Scopes: []string{"openid", "create:events", "update:events", "view:events"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ex.Scopes, " ") != "openid create:events" || ex.AccessToken["scope"] != "openid create:events" ||
		ex.IDToken[ns+"favorite_color"] != "blue" || ex.AccessToken["favorite_color"] != nil {
		t.Fatalf("%+v", ex)
	}
	want := []authz.TraceEntry{
		{Rule: "limit-by-role", Action: "scope_removed", Target: "update:events"},
		{Rule: "favorite", Action: "claim_added", Target: ns + "favorite_color", Detail: "id_token"},
		{Rule: "favorite", Action: "claim_dropped", Target: "favorite_color", Detail: "not namespaced: a custom claim must be an http or https URL"},
	}
	if len(ex.Trace) != len(want) {
		t.Fatalf("trace %+v", ex.Trace)
	}
	for i := range want {
		if ex.Trace[i] != want[i] {
			t.Fatalf("trace[%d] = %+v, want %+v", i, ex.Trace[i], want[i])
		}
	}
}
