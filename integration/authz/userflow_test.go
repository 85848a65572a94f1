package authz_test

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
)

// loginAt signs the browser in as user with the given authentication time.
func (b *browser) loginAt(f *userFixture, user string, at time.Time) {
	u, _ := url.Parse(f.ts.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: user + "." + at.Format(time.RFC3339Nano), Path: "/"}})
}

// eventsURL is an events-app authorization URL with PKCE.
func (f *userFixture) eventsURL(scopes []string, opts ...oauth2.AuthCodeOption) (string, string) {
	cfg := f.oauth("events-app")
	cfg.Scopes = scopes
	v := oauth2.GenerateVerifier()
	return cfg.AuthCodeURL("st", append(opts, oauth2.S256ChallengeOption(v))...), v
}

func TestUserGrantPolicy(t *testing.T) {
	ctx := context.Background()
	f := newUserFixture(t)
	must(t, f.store.APIs().Create(ctx, &storage.API{Identifier: "https://no-offline.example.com", Name: "No offline",
		AllowSkipConsent: true, Scopes: []storage.Scope{{Name: "read"}}}))
	must(t, f.store.APIs().Create(ctx, &storage.API{Identifier: "https://ask.example.com", Name: "Always ask",
		AllowOfflineAccess: true, Scopes: []storage.Scope{{Name: "read", Description: "Read things"}}}))
	must(t, f.store.Users().Create(ctx, &storage.User{ID: "carol", Name: "Carol", Roles: []string{"organizer"}, Groups: []string{"attendees"}}))
	cases := []struct {
		name, user, audience string
		scopes               []string
		wantScope            string
		wantRefresh          bool
		wantConsent          bool
		wantPerms            int
	}{
		{name: "AllowOfflineAccess=false gives no refresh token", user: "alice", audience: "https://no-offline.example.com",
			scopes: []string{"read", "offline_access"}, wantScope: "read"},
		{name: "direct and group roles are united", user: "carol", audience: eventsAPI,
			scopes:    []string{"create:events", "update:events", "view:events", "register:events"},
			wantScope: "create:events update:events view:events register:events", wantPerms: 4},
		{name: "first-party client still asked when the API does not allow skipping", user: "alice", audience: "https://ask.example.com",
			scopes: []string{"read", "offline_access"}, wantScope: "read offline_access", wantRefresh: true, wantConsent: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := f.browser(t)
			b.login(f, tc.user)
			u, v := f.eventsURL(tc.scopes, oauth2.SetAuthURLParam("audience", tc.audience))
			cb := b.get(u)
			if consent := cb == nil && strings.Contains(b.body, "wants to access your account"); consent != tc.wantConsent {
				t.Fatalf("consent page shown = %v, want %v (%v %q)", consent, tc.wantConsent, cb, b.body)
			}
			if cb == nil {
				form := b.consentForm()
				form["scope"] = tc.scopes
				form.Set("decision", "allow")
				cb = b.post(f.ts.URL+"/authorize/consent", form)
			}
			if cb == nil || cb.Query().Get("code") == "" {
				t.Fatalf("no code: %v %q", cb, b.body)
			}
			tok, err := f.oauth("events-app").Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(v))
			must(t, err)
			claims := decodePayload(t, tok.AccessToken)
			if claims["scope"] != tc.wantScope {
				t.Fatalf("scope %v, want %q", claims["scope"], tc.wantScope)
			}
			if (tok.RefreshToken != "") != tc.wantRefresh {
				t.Fatalf("refresh token issued = %v, want %v", tok.RefreshToken != "", tc.wantRefresh)
			}
			if perms, _ := claims["permissions"].([]any); len(perms) != tc.wantPerms {
				t.Fatalf("permissions %v, want %d", claims["permissions"], tc.wantPerms)
			}
		})
	}
}

func TestSignInFreshness(t *testing.T) {
	f := newUserFixture(t)
	old := time.Now().Add(-2 * time.Minute)
	cases := []struct {
		name     string
		opts     []oauth2.AuthCodeOption
		wantPage bool
	}{
		{"no constraint", nil, false},
		{"prompt=login asks again", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login")}, true},
		{"max_age shorter than the session", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("max_age", "60")}, true},
		{"max_age longer than the session", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("max_age", "3600")}, false},
		{"max_age=0 asks again", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("max_age", "0")}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := f.browser(t)
			b.loginAt(f, "alice", old)
			u, _ := f.eventsURL([]string{"view:events"}, append(tc.opts, oauth2.SetAuthURLParam("audience", eventsAPI))...)
			cb := b.get(u)
			if page := cb == nil && b.body == "login page"; page != tc.wantPage {
				t.Fatalf("login page = %v, want %v (%v %q)", page, tc.wantPage, cb, b.body)
			}
			if !tc.wantPage {
				return
			}
			// Signing in again completes the same request.
			cb = b.get(b.last.Request.URL.String() + "&user=alice")
			if cb == nil || cb.Query().Get("code") == "" || cb.Query().Get("state") != "st" {
				t.Fatalf("after a fresh sign-in: %v %q", cb, b.body)
			}
		})
	}
}

func TestAuthorizeRequestForms(t *testing.T) {
	ctx := context.Background()
	f := newUserFixture(t)
	t.Run("POST /authorize", func(t *testing.T) {
		b := f.browser(t)
		b.login(f, "bob")
		u, v := f.eventsURL([]string{"view:events"}, oauth2.SetAuthURLParam("audience", eventsAPI))
		parsed, _ := url.Parse(u)
		cb := b.post(f.ts.URL+"/authorize", parsed.Query())
		if cb == nil || cb.Query().Get("code") == "" || cb.Query().Get("state") != "st" {
			t.Fatalf("%v %d %q", cb, b.last.StatusCode, b.body)
		}
		tok, err := f.oauth("events-app").Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil || decodePayload(t, tok.AccessToken)["scope"] != "view:events" {
			t.Fatalf("%v %v", err, tok)
		}
	})
	t.Run("resource names the API (RFC 8707)", func(t *testing.T) {
		b := f.browser(t)
		b.login(f, "bob")
		u, v := f.eventsURL([]string{"view:events"}, oauth2.SetAuthURLParam("resource", eventsAPI))
		cb := b.get(u)
		if cb == nil || cb.Query().Get("code") == "" {
			t.Fatalf("%v %q", cb, b.body)
		}
		tok, err := f.oauth("events-app").Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(v))
		must(t, err)
		aud := fmt.Sprint(decodePayload(t, tok.AccessToken)["aud"])
		if !strings.Contains(aud, eventsAPI) {
			t.Fatalf("aud %v", aud)
		}
	})
	t.Run("resource and audience disagreeing", func(t *testing.T) {
		b := f.browser(t)
		b.login(f, "bob")
		u, _ := f.eventsURL([]string{"view:events"}, oauth2.SetAuthURLParam("resource", eventsAPI), oauth2.SetAuthURLParam("audience", bankUserAPI))
		if cb := b.get(u); cb == nil || cb.Query().Get("error") != "invalid_target" {
			t.Fatalf("%v %q", cb, b.body)
		}
	})
	t.Run("negative loopback variants", func(t *testing.T) {
		for _, bad := range []string{
			"http://127.0.0.1:5000/events/other", "http://127.0.0.1:5000/events/callback/", "http://127.0.0.1:5000/Events/callback",
			"http://127.0.0.1:5000/events/callback?x=1", "http://u@127.0.0.1:5000/events/callback", "http://u:p@127.0.0.1:5000/events/callback",
			"http://127.0.0.1:5000/events/callback#f", "https://127.0.0.1:5000/events/callback", "http://127.0.0.2:5000/events/callback",
			"http://[::1]:5000/events/callback", "http://localhost:5000/events/callback", "http://127.0.0.1:5000/events/%63allback",
			"http://127.0.0.1:5000/events/../events/callback",
		} {
			b := f.browser(t)
			b.login(f, "bob")
			cfg := f.oauth("events-app")
			cfg.RedirectURL = bad
			if cb := b.get(cfg.AuthCodeURL("x", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))); cb != nil || b.last.StatusCode != http.StatusBadRequest {
				t.Errorf("%q: redirected to %v (status %d)", bad, cb, b.last.StatusCode)
			}
		}
	})
}

func TestConsentSubmission(t *testing.T) {
	f := newUserFixture(t)
	cfg := f.oauth("bank-app")
	cfg.Scopes = []string{"read:balance", "transfer:funds"}
	authURL := cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("audience", bankUserAPI))
	show := func(t *testing.T) (*browser, url.Values) {
		b := f.browser(t)
		b.login(f, "alice")
		if cb := b.get(authURL); cb != nil {
			t.Fatalf("no consent page: %v", cb)
		}
		return b, b.consentForm()
	}
	t.Run("no csrf field", func(t *testing.T) {
		b, form := show(t)
		form.Del("csrf")
		form.Set("decision", "allow")
		if cb := b.post(f.ts.URL+"/authorize/consent", form); cb != nil || b.last.StatusCode != http.StatusForbidden {
			t.Fatalf("%v %d", cb, b.last.StatusCode)
		}
	})
	t.Run("another user signed in since the page was shown", func(t *testing.T) {
		b, form := show(t)
		b.login(f, "bob")
		form.Set("decision", "allow")
		form["scope"] = []string{"read:balance", "transfer:funds"}
		if cb := b.post(f.ts.URL+"/authorize/consent", form); cb != nil || b.last.StatusCode != http.StatusForbidden {
			t.Fatalf("consent of alice's page accepted for bob: %v %d", cb, b.last.StatusCode)
		}
		if list, _ := f.srv.Consents(context.Background(), "bob"); len(list) != 0 {
			t.Fatalf("consent recorded for bob: %v", list)
		}
		// Alice, signed in again, can still answer her page.
		b.login(f, "alice")
		if cb := b.post(f.ts.URL+"/authorize/consent", form); cb == nil || cb.Query().Get("code") == "" {
			t.Fatalf("the user shown the page cannot answer it: %v %q", cb, b.body)
		}
	})
	t.Run("resume from another browser", func(t *testing.T) {
		b := f.browser(t)
		if cb := b.get(authURL); cb != nil || b.body != "login page" {
			t.Fatalf("%v %q", cb, b.body)
		}
		resume := b.last.Request.URL.Query().Get("return_to")
		other := f.browser(t)
		other.login(f, "alice")
		if cb := other.get(resume); cb != nil || other.last.StatusCode != http.StatusForbidden {
			t.Fatalf("a resume link completed in another browser: %v %d", cb, other.last.StatusCode)
		}
	})
}

func TestBindingCookieUsesServerClock(t *testing.T) {
	skew := -time.Hour // the configured clock is an hour behind the wall clock
	f := newUserFixture(t, func(c *authz.Config) {
		c.Now = func() time.Time { return time.Now().Add(skew) }
		c.AuthRequestLifetime = 10 * time.Minute
	})
	b := f.browser(t)
	b.login(f, "alice")
	cfg := f.oauth("bank-app")
	cfg.Scopes = []string{"read:balance"}
	if cb := b.get(cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("audience", bankUserAPI))); cb != nil {
		t.Fatalf("no consent page: %v", cb)
	}
	var binding *http.Cookie
	for _, c := range b.last.Cookies() {
		if strings.HasPrefix(c.Name, "sk_") {
			binding = c
		}
	}
	if binding == nil || binding.MaxAge < 590 || binding.MaxAge > 600 {
		t.Fatalf("binding cookie %+v: Max-Age must be the request's lifetime on the server's clock", binding)
	}
}

func TestConsentPageHook(t *testing.T) {
	page := template.Must(template.New("p").Parse(`<h1 id="custom">{{.ClientName}} on {{.APIName}} for {{.User.ID}}</h1>
<form method="post" action="{{.Action}}">{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
{{range .Scopes}}<label>{{.Name}}: {{.Description}}</label>{{end}}</form>`))
	var prompts []*authz.ConsentPrompt
	f := newUserFixture(t, func(c *authz.Config) {
		c.ConsentPage = func(w http.ResponseWriter, r *http.Request, p *authz.ConsentPrompt) {
			prompts = append(prompts, p)
			_ = page.Execute(w, p)
		}
	})
	b := f.browser(t)
	b.login(f, "alice")
	cfg := f.oauth("bank-app")
	cfg.Scopes = []string{"read:balance", "transfer:funds"}
	if cb := b.get(cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("audience", bankUserAPI))); cb != nil {
		t.Fatalf("no consent page: %v", cb)
	}
	h := b.last.Header
	if !strings.Contains(b.body, `id="custom">PayFast on Bank for alice`) || !strings.Contains(b.body, "transfer:funds: Transfer funds") {
		t.Fatalf("host page not rendered: %q", b.body)
	}
	csp := h.Get("Content-Security-Policy")
	if h.Get("X-Frame-Options") != "DENY" || !strings.Contains(csp, "frame-ancestors 'none'") ||
		!strings.Contains(csp, "form-action 'self' https://bank-app.example.com") || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", h)
	}
	if len(prompts) != 1 || prompts[0].Action != f.ts.URL+"/authorize/consent" || len(prompts[0].Scopes) != 2 {
		t.Fatalf("prompt %+v", prompts)
	}
	form := b.consentForm()
	form["scope"] = []string{"transfer:funds"}
	form.Set("decision", "allow")
	cb := b.post(prompts[0].Action, form)
	if cb == nil || cb.Query().Get("code") == "" {
		t.Fatalf("%v %q", cb, b.body)
	}
	tok, err := cfg.Exchange(context.Background(), cb.Query().Get("code"))
	if err != nil || tok.Extra("scope") != "transfer:funds" {
		t.Fatalf("%v %v", err, tok.Extra("scope"))
	}
}
