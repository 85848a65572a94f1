package authz_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
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

// TestRuleCannotOverrideConsent: for a third-party client the consent page
// is the user's word. A rule may add back a requested scope, but not one
// the user unticked.
func TestRuleCannotOverrideConsent(t *testing.T) {
	var addErr error
	f, _ := newRulesFixture(t, nil, rule("add-transfer", func(_ context.Context, tx *authz.Transaction) error {
		if tx.Trigger == authz.TriggerLogin {
			addErr = tx.AddScope("transfer:funds")
		}
		return nil
	}))
	tok := f.exchange(t, "bank-app", "alice", []string{"read:balance", "transfer:funds"}, "read:balance")
	if got := decodePayload(t, tok.AccessToken)["scope"]; got != "read:balance" {
		t.Fatalf("scope %v: a rule granted a scope the user refused", got)
	}
	if addErr == nil || !strings.Contains(addErr.Error(), "consent") {
		t.Fatalf("AddScope error %v", addErr)
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

// TestExplainFlows: Explain shows each user flow as the rules see it.
func TestExplainFlows(t *testing.T) {
	f, _ := newRulesFixture(t, nil, rule("flow", func(_ context.Context, tx *authz.Transaction) error {
		tx.SetIDTokenClaim(ns+"flow", string(tx.Trigger)+"/"+tx.GrantType)
		return nil
	}))
	for gty, want := range map[string]string{
		"":                   "login/authorization_code",
		"authorization_code": "login/authorization_code",
		"implicit":           "login/implicit",
		"refresh_token":      "refresh/refresh_token",
	} {
		ex, err := f.srv.Explain(context.Background(), authz.ExplainRequest{ClientID: "events-app", UserID: "alice",
			Audience: eventsAPI, Scopes: []string{"openid", "view:events"}, GrantType: gty})
		if err != nil {
			t.Fatal(err)
		}
		if ex.IDToken[ns+"flow"] != want {
			t.Fatalf("GrantType %q: rules saw %v, want %s", gty, ex.IDToken[ns+"flow"], want)
		}
	}
	_, err := f.srv.Explain(context.Background(), authz.ExplainRequest{ClientID: "events-app", UserID: "alice",
		Audience: eventsAPI, GrantType: "password"})
	if !errors.Is(err, oauth.ErrInvalidRequest) {
		t.Fatalf("unknown flow: %v", err)
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

// TestAddScopeCannotInvent checks AddScope against what the server knows,
// whatever a rule does to the fields it can reach.
func TestAddScopeCannotInvent(t *testing.T) {
	var mu sync.Mutex
	var refused []string
	f, _ := newRulesFixture(t, nil, rule("escalate", func(_ context.Context, tx *authz.Transaction) error {
		if tx.User == nil || tx.User.ID != "bob" {
			return nil
		}
		// Defined by the API, refused by RBAC, and not requested.
		errNotRequested := tx.AddScope("create:events")
		// Tampering with every field a rule can reach.
		tx.API.Scopes = append(tx.API.Scopes, storage.Scope{Name: "admin:all"})
		rs := tx.RequestedScopes()
		rs[0] = "admin:all"
		_ = append(rs, "admin:all")
		errInvented := tx.AddScope("admin:all")
		mu.Lock()
		defer mu.Unlock()
		if errNotRequested != nil {
			refused = append(refused, "create:events")
		}
		if errInvented != nil {
			refused = append(refused, "admin:all")
		}
		if strings.Join(tx.RequestedScopes(), " ") != "view:events" {
			return errors.New("RequestedScopes returned a slice that aliases the transaction")
		}
		return nil
	}))
	tok := f.exchange(t, "events-app", "bob", []string{"view:events"})
	if got := decodePayload(t, tok.AccessToken)["scope"]; got != "view:events" {
		t.Fatalf("scope %v: a rule invented a scope", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(refused, ",") != "create:events,admin:all" {
		t.Fatalf("refused %v", refused)
	}
}

// TestRuleTriggers checks that rules see the trigger and the flow of every
// issuance, the implicit flow included, and that the code exchange does not
// run the login rules again.
func TestRuleTriggers(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	f, secret := newRulesFixture(t, func(c *authz.Config) { c.ImplicitFlow = true },
		rule("record", func(_ context.Context, tx *authz.Transaction) error {
			mu.Lock()
			seen = append(seen, string(tx.Trigger)+"/"+tx.GrantType)
			mu.Unlock()
			if tx.Trigger != authz.TriggerClientCredentials && (tx.User == nil || tx.User.ID != "alice") {
				return errors.New("user flows must carry the user")
			}
			return nil
		}))
	ctx := context.Background()
	_, err := f.srv.CreateClient(ctx, &storage.Client{ID: "spa", Public: true, FirstParty: true, RedirectURIs: []string{spaCB},
		GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"id_token token"}})
	must(t, err)
	postForm(t, f.ts.URL+"/oauth/token", ccForm(bankUserAPI, ""), basic("reporter", secret))
	b := f.browser(t)
	b.login(f, "alice")
	code, v := f.codeFor(t, b, true, "read:balance", "offline_access")
	tok, err := f.oauth("bank-app").Exchange(ctx, code, oauth2.VerifierOption(v))
	must(t, err)
	if _, err := f.oauth("bank-app").TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Fatal(err)
	}
	cb := b.get(f.ts.URL + "/authorize?client_id=spa&response_type=id_token%20token&scope=openid&nonce=n1&state=s&redirect_uri=" + url.QueryEscape(spaCB))
	if cb == nil || !strings.Contains(cb.Fragment, "id_token=") {
		t.Fatalf("implicit flow: %v", cb)
	}
	want := "client_credentials/client-credentials login/authorization_code refresh/refresh_token login/implicit"
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(seen, " "); got != want {
		t.Fatalf("rules saw %q, want %q", got, want)
	}
}

func TestReservedClaimHosts(t *testing.T) {
	set := rule("namespaces", func(_ context.Context, tx *authz.Transaction) error {
		tx.SetAccessTokenClaim("https://tenant.Auth0.com/role", "admin") // subdomain of a reserved host
		tx.SetAccessTokenClaim("https://auth0.com/role", "admin")        // the reserved host
		tx.SetAccessTokenClaim("https://notauth0.com/ok", "kept")        // another host that merely ends alike
		tx.SetAccessTokenClaim(ns+"ok", "kept")
		return nil
	})
	t.Run("dropped", func(t *testing.T) {
		f, secret := newRulesFixture(t, func(c *authz.Config) { c.ReservedClaimHosts = []string{" AUTH0.com "} }, set)
		_, body := postForm(t, f.ts.URL+"/oauth/token", ccForm(bankUserAPI, ""), basic("reporter", secret))
		c := decodePayload(t, body["access_token"].(string))
		if c["https://tenant.Auth0.com/role"] != nil || c["https://auth0.com/role"] != nil ||
			c["https://notauth0.com/ok"] != "kept" || c[ns+"ok"] != "kept" {
			t.Fatalf("claims %v", c)
		}
	})
	t.Run("not reserved without the setting", func(t *testing.T) {
		f, secret := newRulesFixture(t, nil, set)
		_, body := postForm(t, f.ts.URL+"/oauth/token", ccForm(bankUserAPI, ""), basic("reporter", secret))
		if c := decodePayload(t, body["access_token"].(string)); c["https://auth0.com/role"] != "admin" {
			t.Fatalf("claims %v", c)
		}
	})
	t.Run("strict", func(t *testing.T) {
		f, secret := newRulesFixture(t, func(c *authz.Config) {
			c.ReservedClaimHosts = []string{"auth0.com"}
			c.StrictClaims = true
		}, set)
		resp, body := postForm(t, f.ts.URL+"/oauth/token", ccForm(bankUserAPI, ""), basic("reporter", secret))
		if resp.StatusCode != 500 || body["error"] != "server_error" || body["access_token"] != nil {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
	})
}

// TestRuleCannotSetRegisteredIDTokenClaims runs a code flow whose rule
// tries to overwrite sub, nonce and scope in the ID token.
func TestRuleCannotSetRegisteredIDTokenClaims(t *testing.T) {
	f, _ := newRulesFixture(t, nil, rule("overwrite", func(_ context.Context, tx *authz.Transaction) error {
		for _, name := range []string{"sub", "nonce", "scope", "iss", "aud", "email"} {
			tx.SetIDTokenClaim(name, "evil")
		}
		tx.SetIDTokenClaim(ns+"ok", true)
		return nil
	}))
	_, err := f.srv.CreateClient(context.Background(), &storage.Client{ID: "spa", Public: true, FirstParty: true,
		RedirectURIs: []string{spaCB}, GrantTypes: []string{"authorization_code"}})
	must(t, err)
	cfg := f.spaConfig("openid", "email")
	v := oauth2.GenerateVerifier()
	b := f.browser(t)
	b.login(f, "alice")
	cb := f.authorize(t, b, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("nonce", "real-nonce")), "alice")
	tok, err := cfg.Exchange(context.Background(), cb.Query().Get("code"), oauth2.VerifierOption(v))
	must(t, err)
	c := decodePayload(t, tok.Extra("id_token").(string))
	if c["sub"] != "alice" || c["nonce"] != "real-nonce" || c["scope"] != nil || c["iss"] != f.srv.Issuer() ||
		c["aud"] != "spa" || c["email"] != "alice@example.com" || c[ns+"ok"] != true {
		t.Fatalf("ID token claims %v", c)
	}
	ex, err := f.srv.Explain(context.Background(), authz.ExplainRequest{ClientID: "spa", UserID: "alice", Scopes: []string{"openid"}})
	must(t, err)
	if len(ex.Trace) != 7 || ex.Trace[0].Action != "claim_dropped" || ex.Trace[0].Detail != "registered claim: only the server sets it" ||
		ex.Trace[6].Action != "claim_added" {
		t.Fatalf("trace %+v", ex.Trace)
	}
}

// countingStore counts the writes a failed login must not make.
type countingStore struct {
	storage.Store
	codes, taken atomic.Int32
}

func (s *countingStore) CreateCode(ctx context.Context, c *storage.AuthCode) error {
	s.codes.Add(1)
	return s.Store.CreateCode(ctx, c)
}

func (s *countingStore) TakeAuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	s.taken.Add(1)
	return s.Store.TakeAuthRequest(ctx, id)
}

func TestLoginRuleTimeoutStoresNoCode(t *testing.T) {
	var cs *countingStore
	f, _ := newRulesFixture(t, func(c *authz.Config) {
		cs = &countingStore{Store: c.Store}
		c.Store = cs
		c.RuleTimeout = 50 * time.Millisecond
	}, rule("slow-crm", func(ctx context.Context, tx *authz.Transaction) error {
		time.Sleep(300 * time.Millisecond) // ignores its context, as a careless rule would
		tx.SetIDTokenClaim(ns+"late", true)
		return nil
	}))
	b := f.browser(t)
	b.login(f, "alice")
	cfg := f.oauth("bank-app")
	cfg.Scopes = []string{"read:balance"}
	cb := f.authorize(t, b, cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("audience", bankUserAPI)), "alice", "read:balance")
	if cb.Query().Get("error") != "server_error" || cb.Query().Get("code") != "" || cb.Query().Get("state") != "s" {
		t.Fatalf("%v", cb)
	}
	if n := cs.codes.Load(); n != 0 {
		t.Fatalf("%d codes stored after a rule timed out", n)
	}
	if n := cs.taken.Load(); n != 0 {
		t.Fatal("the pending request was consumed by a failed login")
	}
}

// TestRulesSeeCopies checks that what a rule changes in the records it is
// shown reaches neither the store nor the next issuance's rules.
func TestRulesSeeCopies(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	f, _ := newRulesFixture(t, nil, rule("vandal", func(_ context.Context, tx *authz.Transaction) error {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%v|%v|%s|%v|%d", tx.User.AppMetadata["plan"], tx.User.UserMetadata["prefs"],
			tx.Client.Name, tx.User.Roles, len(tx.API.Scopes)))
		mu.Unlock()
		tx.User.AppMetadata["plan"] = "enterprise"
		tx.User.UserMetadata["prefs"].(map[string]any)["theme"] = "hacked"
		tx.User.Roles = append(tx.User.Roles, "admin")
		tx.User.Email = "evil@example.com"
		tx.Client.Name = "Renamed"
		tx.Client.RedirectURIs[0] = "https://evil.example.com/cb"
		tx.API.Scopes[0].Name = "admin:all"
		return nil
	}))
	ctx := context.Background()
	alice, err := f.store.Users().Get(ctx, "alice")
	must(t, err)
	alice.AppMetadata = map[string]any{"plan": "free"}
	alice.UserMetadata = map[string]any{"prefs": map[string]any{"theme": "dark"}}
	must(t, f.store.Users().Update(ctx, alice))
	for i := 0; i < 2; i++ {
		tok := f.exchange(t, "events-app", "alice", []string{"openid", "email", "create:events"})
		if c := decodePayload(t, tok.Extra("id_token").(string)); c["email"] != "alice@example.com" {
			t.Fatalf("the ID token used the rule's copy: %v", c)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := "free|map[theme:dark]|Events|[organizer]|4"
	if len(seen) != 2 || seen[0] != want || seen[1] != want {
		t.Fatalf("rules saw %q, want %q twice", seen, want)
	}
	u, err := f.store.Users().Get(ctx, "alice")
	must(t, err)
	c, err := f.store.Clients().Get(ctx, "events-app")
	must(t, err)
	api, err := f.store.APIs().Get(ctx, eventsAPI)
	must(t, err)
	if u.AppMetadata["plan"] != "free" || u.UserMetadata["prefs"].(map[string]any)["theme"] != "dark" || len(u.Roles) != 1 ||
		u.Email != "alice@example.com" || c.Name != "Events" || c.RedirectURIs[0] != eventsCB || api.Scopes[0].Name != "create:events" {
		t.Fatalf("the store changed: %+v %+v %+v", u, c, api)
	}
}

// TestExplainTraceFollowsRuleOrder checks that claim events sit where their
// rule made them, between the other rules' scope changes.
func TestExplainTraceFollowsRuleOrder(t *testing.T) {
	f, _ := newRulesFixture(t, nil,
		rule("one", func(_ context.Context, tx *authz.Transaction) error {
			tx.SetIDTokenClaim(ns+"a", 1)
			tx.SetAccessTokenClaim("bad", 1)
			return nil
		}),
		rule("two", func(_ context.Context, tx *authz.Transaction) error {
			tx.RemoveScope("update:events")
			return nil
		}),
		rule("three", func(_ context.Context, tx *authz.Transaction) error {
			tx.SetAccessTokenClaim(ns+"c", 3)
			return tx.AddScope("view:events") // requested, refused by RBAC
		}))
	ex, err := f.srv.Explain(context.Background(), authz.ExplainRequest{ClientID: "events-app", UserID: "alice",
		Audience: eventsAPI, Scopes: []string{"openid", "create:events", "update:events", "view:events"}})
	must(t, err)
	want := []authz.TraceEntry{
		{Rule: "one", Action: "claim_added", Target: ns + "a", Detail: "id_token"},
		{Rule: "one", Action: "claim_dropped", Target: "bad", Detail: "not namespaced: a custom claim must be an http or https URL"},
		{Rule: "two", Action: "scope_removed", Target: "update:events"},
		{Rule: "three", Action: "claim_added", Target: ns + "c", Detail: "access_token"},
		{Rule: "three", Action: "scope_added", Target: "view:events"},
	}
	if !reflect.DeepEqual(ex.Trace, want) {
		t.Fatalf("trace\n%+v\nwant\n%+v", ex.Trace, want)
	}
	if ex.AccessToken["scope"] != "openid create:events view:events" || ex.AccessToken[ns+"c"] != 3.0 || ex.IDToken[ns+"a"] != 1.0 {
		t.Fatalf("%+v", ex)
	}
}

func TestIDTokenLifetime(t *testing.T) {
	for _, tc := range []struct {
		set, want time.Duration
	}{{0, time.Hour}, {5 * time.Minute, 5 * time.Minute}} {
		f, _ := newRulesFixture(t, func(c *authz.Config) {
			c.IDTokenLifetime = tc.set
			c.AccessTokenLifetime = 2 * time.Hour
		})
		ex, err := f.srv.Explain(context.Background(), authz.ExplainRequest{ClientID: "events-app", UserID: "alice",
			Audience: eventsAPI, Scopes: []string{"openid"}})
		must(t, err)
		idExp, _ := ex.IDToken["exp"].(int64)
		idIat, _ := ex.IDToken["iat"].(int64)
		atExp, _ := ex.AccessToken["exp"].(float64)
		atIat, _ := ex.AccessToken["iat"].(float64)
		if time.Duration(idExp-idIat)*time.Second != tc.want || time.Duration(atExp-atIat)*time.Second != 2*time.Hour {
			t.Fatalf("IDTokenLifetime %v: ID token lives %ds, access token %vs", tc.set, idExp-idIat, atExp-atIat)
		}
	}
}

// TestZeroTransaction checks that a rule can be unit-tested on a
// Transaction built by hand: the methods apply the default claim rules.
func TestZeroTransaction(t *testing.T) {
	var tx authz.Transaction
	tx.SetIDTokenClaim(ns+"color", "blue")
	tx.SetAccessTokenClaim("sub", "x")
	if err := tx.AddScope("read:anything"); err == nil {
		t.Fatal("a scope nobody requested was added")
	}
	if len(tx.Scopes()) != 0 || len(tx.RequestedScopes()) != 0 {
		t.Fatalf("%v %v", tx.Scopes(), tx.RequestedScopes())
	}
}
