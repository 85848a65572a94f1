// Package demo holds what the user-facing examples share: a host login page
// with demo users (the part a real application owns) and a small client
// application that signs users in with the authorization code flow and PKCE.
package demo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/token"
)

// Login is a host application's sign-in for demos: a page listing demo
// users, a signed session cookie, and the authz.Login hooks over them. A real
// application checks passwords (or federates) here; scopekit never sees them.
type Login struct {
	// Users are the demo users offered on the page, by id.
	Users []string
	key   []byte
}

// NewLogin returns a Login for the demo users.
func NewLogin(users ...string) *Login {
	return &Login{Users: users, key: []byte(token.Random(32))}
}

const sessionCookie = "demo_session"

// Session implements authz.Login: it reads the signed session cookie.
func (l *Login) Session(r *http.Request) (*authz.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	v, sig, ok := strings.Cut(c.Value, "~")
	if !ok || !hmac.Equal([]byte(sig), []byte(l.sign(v))) {
		return nil, nil
	}
	user, at, _ := strings.Cut(v, "|")
	sec, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return nil, nil
	}
	return &authz.Session{UserID: user, AuthTime: time.Unix(sec, 0)}, nil
}

// Challenge implements authz.Login: it sends the browser to the login page.
// The issuer's returnTo is an absolute URL of this same server; the login
// page carries only its path and query, the one form of return address it
// follows (see SafeReturnPath).
func (l *Login) Challenge(w http.ResponseWriter, r *http.Request, returnTo string) {
	back := "/"
	if u, err := url.Parse(returnTo); err == nil {
		back = u.RequestURI()
	}
	http.Redirect(w, r, "/login?return_to="+url.QueryEscape(back), http.StatusFound)
}

// SafeReturnPath reports whether p is a path on this server that a login
// page may redirect to after sign-in. It must start with exactly one '/':
// "//evil.com" is a scheme-relative URL of another host, and browsers read
// "/\evil.com" as "//evil.com" (WHATWG URL treats '\' as '/' in http URLs)
// and drop tabs and newlines ("/\t/evil.com"), so a backslash or a control
// character anywhere is refused, as is anything with a scheme or a host.
func SafeReturnPath(p string) bool {
	if len(p) == 0 || p[0] != '/' || len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}

func (l *Login) sign(v string) string {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title>
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto}button{margin:.3rem 0;padding:.4rem 1rem}</style></head>
<body><h1>Sign in</h1><p>Demo users (no password in this demo):</p>
<form method="post" action="/login"><input type="hidden" name="return_to" value="{{.ReturnTo}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
{{range .Users}}<div><button type="submit" name="user" value="{{.}}" id="login-{{.}}">Sign in as {{.}}</button></div>
{{end}}</form></body></html>`))

// csrfCookie holds a random per-browser value; the login form carries its
// MAC (a signed double-submit token), so a cross-site form cannot sign the
// browser in as someone else (login CSRF).
const csrfCookie = "demo_csrf"

// csrfToken returns the browser's login-form token, setting the cookie it
// derives from when the browser has none.
func (l *Login) csrfToken(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 16 {
		c = &http.Cookie{Name: csrfCookie, Value: token.Random(16), Path: "/login", HttpOnly: true, SameSite: http.SameSiteLaxMode}
		http.SetCookie(w, c)
	}
	return l.sign("csrf\x00" + c.Value)
}

// validCSRF checks the posted form token against the browser's cookie.
func (l *Login) validCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 16 {
		return false
	}
	return hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(l.sign("csrf\x00"+c.Value)))
}

// ServeHTTP serves the login page (GET) and signs the chosen user in (POST),
// then returns to where the issuer asked. Only local paths are followed
// (SafeReturnPath); the POST must carry the form's CSRF token.
func (l *Login) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	returnTo := r.FormValue("return_to")
	if !SafeReturnPath(returnTo) {
		returnTo = "/"
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'")
		_ = loginPage.Execute(w, map[string]any{"ReturnTo": returnTo, "Users": l.Users, "CSRF": l.csrfToken(w, r)})
		return
	}
	if !l.validCSRF(r) {
		http.Error(w, "invalid or missing form token: reload the login page", http.StatusForbidden)
		return
	}
	user := r.FormValue("user")
	known := false
	for _, u := range l.Users {
		known = known || u == user
	}
	if !known {
		http.Error(w, "unknown user", http.StatusForbidden)
		return
	}
	v := user + "|" + strconv.FormatInt(time.Now().Unix(), 10)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: v + "~" + l.sign(v), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, returnTo, http.StatusFound)
}
