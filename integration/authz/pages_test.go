package authz_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
)

const bankStart = "https://bank-app.example.com/login"

// switchLogin is the fixture's login with a "Not you?" link.
type switchLogin struct{ authz.Login }

func (switchLogin) SwitchAccountURL(_ *http.Request, returnTo string) string {
	return "/logout?return_to=" + url.QueryEscape(returnTo)
}

func withSwitchAccount(c *authz.Config) { c.Login = switchLogin{c.Login} }

// setStartURL registers the bank app's initiate_login_uri.
func setStartURL(t *testing.T, f *userFixture, uri string) {
	t.Helper()
	ctx := context.Background()
	c, err := f.store.Clients().Get(ctx, "bank-app")
	must(t, err)
	c.InitiateLoginURI = uri
	must(t, f.store.Clients().Update(ctx, c))
}

func bankConsentURL(f *userFixture) string {
	cfg := f.oauth("bank-app")
	cfg.Scopes = []string{"read:balance", "transfer:funds"}
	return cfg.AuthCodeURL("s1", oauth2.SetAuthURLParam("audience", bankUserAPI))
}

// getIn fetches u with an Accept-Language header.
func (b *browser) getIn(u, lang string) *url.URL {
	b.t.Helper()
	return b.do(func() (*http.Response, error) {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Accept-Language", lang)
		return b.c.Do(req)
	})
}

// TestExpiredRequestSaysWhatToDo: a resume URL used already answers a
// page that links to the client's initiate_login_uri when it has one, and
// says to go back to the app otherwise; the OAuth code is only a detail.
func TestExpiredRequestSaysWhatToDo(t *testing.T) {
	f := newUserFixture(t)
	b := f.browser(t)
	if cb := b.get(bankConsentURL(f)); cb != nil || !strings.Contains(b.body, "login page") {
		t.Fatalf("no login page: %v %q", cb, b.body)
	}
	resume := b.last.Request.URL.Query().Get("return_to")
	if u, _ := url.Parse(resume); u.Query().Get("client_id") != "bank-app" {
		t.Fatalf("the resume URL does not name the client: %s", resume)
	}
	f.authorize(t, b, b.last.Request.URL.String()+"&user=alice", "alice", "read:balance")

	if cb := b.get(resume); cb != nil || b.last.StatusCode != 400 {
		t.Fatalf("a used request: %v %d", cb, b.last.StatusCode)
	}
	if !strings.Contains(b.body, "Go back to the application and start signing in again.") || strings.Contains(b.body, `id="start-again"`) ||
		!regexp.MustCompile(`<small id="details">[^<]*<code>invalid_request</code>`).MatchString(b.body) {
		t.Fatalf("without a start URL: %q", b.body)
	}
	setStartURL(t, f, bankStart)
	b.get(resume)
	if !strings.Contains(b.body, `<a id="start-again" class="button primary" href="`+bankStart+`">Start again at PayFast</a>`) {
		t.Fatalf("with a start URL: %q", b.body)
	}
	b.getIn(resume, "fr-FR,fr;q=0.9")
	if !strings.Contains(b.body, `<html lang="fr">`) || !strings.Contains(b.body, "Recommencer sur PayFast") {
		t.Fatalf("in French: %q", b.body)
	}
	// A client id that is not the request's only ever links a registered URL.
	b.get(f.ts.URL + "/authorize/resume?id=" + strings.Repeat("x", 20) + "&client_id=events-app")
	if strings.Contains(b.body, "start-again") {
		t.Fatalf("a client without initiate_login_uri got a link: %q", b.body)
	}
	if _, err := f.srv.CreateClient(context.Background(), &storage.Client{ID: "plain", Name: "plain",
		RedirectURIs: []string{bankCB}, GrantTypes: []string{"authorization_code"}, InitiateLoginURI: "http://app.example.com/login"}); err == nil {
		t.Fatal("an http initiate_login_uri registered")
	}
}

// TestConsentRemembersUnticked: a scope the user unticked starts unticked
// on the next visit; a scope allowed starts ticked.
func TestConsentRemembersUnticked(t *testing.T) {
	f := newUserFixture(t)
	b := f.browser(t)
	b.login(f, "alice")
	authURL := bankConsentURL(f)
	f.authorize(t, b, authURL, "alice", "read:balance")
	if cb := b.get(authURL); cb != nil {
		t.Fatalf("consent skipped though a scope was unticked: %s", cb)
	}
	if !strings.Contains(b.body, `value="read:balance" checked>`) || !strings.Contains(b.body, `value="transfer:funds">`) {
		t.Fatalf("second visit: %q", b.body)
	}
}

// TestConsentPageSaysWho: the app's name and domain, the signed-in user
// with a "Not you?" link from the login hook, the scopes in a fieldset, the
// withdrawal note; in the language asked for; the headers unchanged.
func TestConsentPageSaysWho(t *testing.T) {
	f := newUserFixture(t, withSwitchAccount)
	b := f.browser(t)
	b.login(f, "alice")
	b.getIn(bankConsentURL(f), "fr;q=0.9, en;q=0.5")
	for _, want := range []string{`<html lang="fr">`, "PayFast souhaite accéder à votre compte", `<p class="muted" id="domain">sur bank-app.example.com</p>`,
		"Connecté en tant que alice@example.com.", `<a id="not-you" href="/logout?return_to=`, "<fieldset><legend>Autoriser PayFast à :</legend>",
		`<button class="primary" type="submit" name="decision" value="allow">Autoriser</button>`, `id="withdraw"`, `name="client_id" value="bank-app"`} {
		if !strings.Contains(b.body, want) {
			t.Fatalf("consent page lacks %q: %s", want, b.body)
		}
	}
	if h := b.last.Header; h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("headers %v", h)
	}
	m := regexp.MustCompile(`id="not-you" href="/logout\?return_to=([^"]+)"`).FindStringSubmatch(b.body)
	ret, _ := url.QueryUnescape(strings.ReplaceAll(m[1], "&amp;", "&"))
	if !strings.HasPrefix(ret, f.ts.URL+"/authorize/resume?") {
		t.Fatalf("the switch-account link returns to %q", ret)
	}
}

// TestErrorPageHook: Config.ErrorPage renders the page with the prompt,
// behind the server's headers.
func TestErrorPageHook(t *testing.T) {
	var got *authz.ErrorPrompt
	f := newUserFixture(t, func(c *authz.Config) {
		c.ErrorPage = func(w http.ResponseWriter, r *http.Request, p *authz.ErrorPrompt) {
			got = p
			w.WriteHeader(p.Status)
			_, _ = w.Write([]byte("custom error: " + p.Message))
		}
		c.PageMessages = map[string]authz.Messages{"de": {"error.expired": "Abgelaufen."}}
	})
	setStartURL(t, f, bankStart)
	b := f.browser(t)
	b.getIn(f.ts.URL+"/authorize/resume?id="+strings.Repeat("x", 20)+"&client_id=bank-app", "de")
	if b.last.StatusCode != 400 || b.body != "custom error: Abgelaufen." || b.last.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("%d %q %v", b.last.StatusCode, b.body, b.last.Header)
	}
	if got.Lang != "de" || !got.Expired || got.StartURL != bankStart || got.Code != "invalid_request" || got.Messages["consent.allow"] != "Allow" {
		t.Fatalf("prompt %+v", got)
	}
}
