package authz_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

const (
	eventsAPI   = "https://events.example.com"
	bankUserAPI = "https://bank-users.example.com"
	eventsCB    = "http://127.0.0.1/events/callback"
	bankCB      = "https://bank-app.example.com/callback"
)

// userFixture is an issuer with the events (first-party, RBAC) and bank
// (third-party, consent) stories, and a host login that signs in the user
// named by ?user= on its /login page.
type userFixture struct {
	srv        *authz.Server
	store      storage.Store
	ts         *httptest.Server
	bankSecret string
	logins     int
}

func newUserFixture(t testing.TB, mutate ...func(*authz.Config)) *userFixture {
	t.Helper()
	ctx := context.Background()
	store := memory.New()
	f := &userFixture{store: store}
	mux := http.NewServeMux()
	f.ts = httptest.NewServer(mux)
	t.Cleanup(f.ts.Close)
	cfg := authz.Config{
		Issuer: f.ts.URL + "/",
		Store:  store,
		Grants: []authz.Grant{grant.AuthorizationCode{}, grant.RefreshToken{}, grant.ClientCredentials{}},
		Login: authz.LoginFuncs{
			SessionFunc: func(r *http.Request) (*authz.Session, error) {
				c, err := r.Cookie("session")
				if err != nil {
					return nil, nil
				}
				id, at, _ := strings.Cut(c.Value, ".")
				sec, _ := time.Parse(time.RFC3339Nano, at)
				return &authz.Session{UserID: id, AuthTime: sec}, nil
			},
			ChallengeFunc: func(w http.ResponseWriter, r *http.Request, returnTo string) {
				http.Redirect(w, r, "/login?return_to="+url.QueryEscape(returnTo), http.StatusFound)
			},
		},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := authz.New(ctx, cfg)
	must(t, err)
	f.srv = srv
	mux.Handle("/", srv.Handler())
	mux.HandleFunc("/spa/callback", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, `<!doctype html><html><body><pre id="out"></pre>
<script>document.getElementById("out").textContent = location.hash.slice(1)</script></body></html>`)
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		if user == "" {
			_, _ = io.WriteString(w, "login page")
			return
		}
		f.logins++
		http.SetCookie(w, &http.Cookie{Name: "session", Value: user + "." + time.Now().Add(time.Second).Format(time.RFC3339Nano), Path: "/"})
		http.Redirect(w, r, r.URL.Query().Get("return_to"), http.StatusFound)
	})

	must(t, store.APIs().Create(ctx, &storage.API{Identifier: eventsAPI, Name: "Events", EnforceRBAC: true,
		AddPermissionsClaim: true, AllowSkipConsent: true, AllowOfflineAccess: true, Scopes: []storage.Scope{
			{Name: "create:events"}, {Name: "update:events"}, {Name: "view:events"}, {Name: "register:events"}}}))
	must(t, store.APIs().Create(ctx, &storage.API{Identifier: bankUserAPI, Name: "Bank", AllowOfflineAccess: true, Scopes: []storage.Scope{
		{Name: "read:balance", Description: "Read your account balance"}, {Name: "transfer:funds", Description: "Transfer funds"}}}))
	must(t, store.Roles().Create(ctx, &storage.Role{ID: "organizer", Name: "Organizer", Permissions: []storage.Permission{
		{Audience: eventsAPI, Scope: "create:events"}, {Audience: eventsAPI, Scope: "update:events"}}}))
	must(t, store.Roles().Create(ctx, &storage.Role{ID: "participant", Name: "Participant", Permissions: []storage.Permission{
		{Audience: eventsAPI, Scope: "view:events"}, {Audience: eventsAPI, Scope: "register:events"}}}))
	must(t, store.Groups().Create(ctx, &storage.Group{ID: "attendees", Name: "Attendees", Roles: []string{"participant"}}))
	must(t, store.Users().Create(ctx, &storage.User{ID: "alice", Name: "Alice A", Nickname: "alice", Email: "alice@example.com",
		EmailVerified: true, Picture: "https://img/alice.png", UpdatedAt: time.Unix(1490886820, 0), Roles: []string{"organizer"}}))
	must(t, store.Users().Create(ctx, &storage.User{ID: "bob", Name: "Bob B", Email: "bob@example.com", Groups: []string{"attendees"}}))

	_, err = srv.CreateClient(ctx, &storage.Client{ID: "events-app", Name: "Events", Public: true, FirstParty: true,
		RedirectURIs: []string{eventsCB}, GrantTypes: []string{"authorization_code", "refresh_token"}})
	must(t, err)
	f.bankSecret, err = srv.CreateClient(ctx, &storage.Client{ID: "bank-app", Name: "PayFast", RedirectURIs: []string{bankCB},
		GrantTypes: []string{"authorization_code", "refresh_token"}})
	must(t, err)
	return f
}

func (f *userFixture) oauth(client string) *oauth2.Config {
	c := &oauth2.Config{ClientID: client, Endpoint: oauth2.Endpoint{
		AuthURL: f.ts.URL + "/authorize", TokenURL: f.ts.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
	switch client {
	case "events-app":
		c.RedirectURL = eventsCB
	case "bank-app":
		c.RedirectURL, c.ClientSecret = bankCB, f.bankSecret
		c.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	}
	return c
}

// browser is a cookie-keeping client that follows redirects until one
// leaves the issuer (the client's callback), which it returns.
type browser struct {
	t    testing.TB
	c    *http.Client
	last *http.Response
	body string
}

var errLeft = errors.New("left the issuer")

func (f *userFixture) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t}
	b.c = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), f.ts.URL) {
			return errLeft
		}
		return nil
	}}
	return b
}

// get follows u; it returns the callback URL the issuer redirected to, or
// nil when the chain stopped at a page of the issuer (kept in b.body).
func (b *browser) get(u string) *url.URL {
	b.t.Helper()
	return b.do(func() (*http.Response, error) { return b.c.Get(u) })
}

func (b *browser) post(u string, form url.Values) *url.URL {
	b.t.Helper()
	return b.do(func() (*http.Response, error) { return b.c.PostForm(u, form) })
}

func (b *browser) do(f func() (*http.Response, error)) *url.URL {
	resp, err := f()
	if err != nil && !errors.Is(err, errLeft) {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	b.last, b.body = resp, string(raw)
	if errors.Is(err, errLeft) {
		loc, _ := resp.Location()
		return loc
	}
	return nil
}

// login signs in as user at the fixture's login page.
func (b *browser) login(f *userFixture, user string) {
	b.t.Helper()
	u, _ := url.Parse(f.ts.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: user + "." + time.Now().Format(time.RFC3339Nano), Path: "/"}})
}

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// consentForm returns the hidden fields of the consent page in b.body.
func (b *browser) consentForm() url.Values {
	b.t.Helper()
	m := hiddenField.FindAllStringSubmatch(b.body, -1)
	if len(m) == 0 {
		b.t.Fatalf("no consent form in %d %q", b.last.StatusCode, b.body)
	}
	v := url.Values{}
	for _, f := range m {
		v.Set(f[1], f[2])
	}
	return v
}

// authorize runs a browser through /authorize as user, allowing the consent
// page with the given scopes when it appears, and returns the callback.
func (f *userFixture) authorize(t testing.TB, b *browser, authURL, user string, allow ...string) *url.URL {
	t.Helper()
	cb := b.get(authURL)
	if cb == nil && strings.Contains(b.body, "login page") {
		cb = b.get(b.last.Request.URL.String() + "&user=" + user)
	}
	if cb == nil && strings.Contains(b.body, "wants to access your account") {
		form := b.consentForm()
		form["scope"] = allow
		form.Set("decision", "allow")
		cb = b.post(f.ts.URL+"/authorize/consent", form)
	}
	if cb == nil {
		t.Fatalf("authorization stopped at %d %q", b.last.StatusCode, b.body)
	}
	return cb
}

func newConfidential(id, redirect string) *storage.Client {
	return &storage.Client{ID: id, Name: id, RedirectURIs: []string{redirect}, GrantTypes: []string{"authorization_code", "refresh_token"}}
}
