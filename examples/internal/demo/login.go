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
func (l *Login) Challenge(w http.ResponseWriter, r *http.Request, returnTo string) {
	http.Redirect(w, r, "/login?return_to="+url.QueryEscape(returnTo), http.StatusFound)
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
{{range .Users}}<div><button type="submit" name="user" value="{{.}}" id="login-{{.}}">Sign in as {{.}}</button></div>
{{end}}</form></body></html>`))

// ServeHTTP serves the login page (GET) and signs the chosen user in (POST),
// then returns to where the issuer asked. Only same-origin return paths are
// followed.
func (l *Login) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	returnTo := r.FormValue("return_to")
	if u, err := url.Parse(returnTo); err != nil || u.Host != "" && u.Host != r.Host || u.Scheme != "" && u.Host == "" {
		returnTo = "/"
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Frame-Options", "DENY")
		_ = loginPage.Execute(w, map[string]any{"ReturnTo": returnTo, "Users": l.Users})
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
