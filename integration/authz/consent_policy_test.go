package authz_test

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
)

// TestPublicClientConsentNotReused: a stored consent to a third-party
// public client does not skip the consent page (RFC 8252 §8.6): another
// program can send /authorize for the same client id with its own loopback
// port and PKCE challenge. prompt=none then answers consent_required.
func TestPublicClientConsentNotReused(t *testing.T) {
	f := newUserFixture(t)
	ctx := context.Background()
	_, err := f.srv.CreateClient(ctx, &storage.Client{ID: "native", Name: "Native", Public: true,
		RedirectURIs: []string{"http://127.0.0.1/native/callback"}, GrantTypes: []string{"authorization_code", "refresh_token"}})
	must(t, err)
	cfg := &oauth2.Config{ClientID: "native", RedirectURL: "http://127.0.0.1/native/callback",
		Scopes:   []string{"read:balance", "transfer:funds", "offline_access"},
		Endpoint: oauth2.Endpoint{AuthURL: f.ts.URL + "/authorize", TokenURL: f.ts.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
	b := f.browser(t)
	b.login(f, "alice")
	first := cfg.AuthCodeURL("s1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("audience", bankUserAPI))
	if cb := f.authorize(t, b, first, "alice", cfg.Scopes...); cb.Query().Get("code") == "" {
		t.Fatalf("first authorization: %v", cb)
	}
	if list, err := f.srv.Consents(ctx, "alice"); err != nil || len(list) != 1 {
		t.Fatalf("consent not stored: %v %v", list, err)
	}
	// The other program: same client, its own redirect port and challenge.
	attacker := cfg.AuthCodeURL("s2", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("audience", bankUserAPI), oauth2.SetAuthURLParam("redirect_uri", "http://127.0.0.1:49152/native/callback"))
	if cb := b.get(attacker); cb != nil || !strings.Contains(b.body, "wants to access your account") {
		t.Fatalf("stored consent re-approved a public client silently: %v %d %q", cb, b.last.StatusCode, b.body)
	}
	none := cfg.AuthCodeURL("s3", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("audience", bankUserAPI), oauth2.SetAuthURLParam("prompt", "none"))
	if cb := b.get(none); cb == nil || cb.Query().Get("error") != "consent_required" || cb.Query().Get("code") != "" {
		t.Fatalf("prompt=none: %v", cb)
	}
	// A first-party public client of an API that allows skipping consent
	// still skips it (events-app).
	if tok := f.exchange(t, "events-app", "bob", []string{"view:events"}); tok.AccessToken == "" {
		t.Fatal("first-party public client refused")
	}
}

// TestRefusedAuthorizationStoresNoConsent: the consent form's scopes are
// recorded only when the authorization succeeds, never when a rule denies,
// fails or panics.
func TestRefusedAuthorizationStoresNoConsent(t *testing.T) {
	for name, run := range map[string]func(context.Context, *authz.Transaction) error{
		"deny":  func(_ context.Context, tx *authz.Transaction) error { return tx.Deny("frozen") },
		"panic": func(context.Context, *authz.Transaction) error { panic("boom") },
	} {
		t.Run(name, func(t *testing.T) {
			f, _ := newRulesFixture(t, nil, rule(name, run))
			b := f.browser(t)
			b.login(f, "alice")
			cfg := f.oauth("bank-app")
			cfg.Scopes = []string{"read:balance"}
			cb := f.authorize(t, b, cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("audience", bankUserAPI)), "alice", "read:balance")
			if cb.Query().Get("code") != "" || cb.Query().Get("error") == "" {
				t.Fatalf("%v", cb)
			}
			if list, err := f.srv.Consents(context.Background(), "alice"); err != nil || len(list) != 0 {
				t.Fatalf("a refused authorization stored consent: %v %v", list, err)
			}
		})
	}
}
