package demo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/token"
)

// App is a client application of the issuer: "/app" starts a sign-in with
// PKCE, "/app/callback" exchanges the code and shows the granted scopes.
type App struct {
	// OAuth is the client's configuration; RedirectURL must be the app's
	// /app/callback.
	OAuth *oauth2.Config
	// Audience is the API the app asks a token for.
	Audience string

	mu      sync.Mutex
	pending map[string]string // state -> PKCE verifier
	// Last is the last token response the app received.
	Last *oauth2.Token
}

var resultPage = template.Must(template.New("result").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed in</title></head>
<body>{{if .Error}}<h1>Authorization failed</h1><p id="error">{{.Error}}</p>
{{else}}<h1>Signed in</h1><p>Subject: <code id="sub">{{.Sub}}</code></p><p>Granted scopes: <code id="scope">{{.Scope}}</code></p>{{end}}
<p><a href="/app" id="again">Sign in again</a></p></body></html>`))

// ServeHTTP implements http.Handler.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/callback") {
		a.callback(w, r)
		return
	}
	state, verifier := token.Random(16), oauth2.GenerateVerifier()
	a.mu.Lock()
	if a.pending == nil {
		a.pending = map[string]string{}
	}
	a.pending[state] = verifier
	a.mu.Unlock()
	http.Redirect(w, r, a.OAuth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("audience", a.Audience)), http.StatusFound)
}

func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.mu.Lock()
	verifier, ok := a.pending[q.Get("state")]
	delete(a.pending, q.Get("state"))
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	switch {
	case !ok:
		_ = resultPage.Execute(w, map[string]string{"Error": "unknown state"})
		return
	case q.Get("error") != "":
		_ = resultPage.Execute(w, map[string]string{"Error": q.Get("error") + ": " + q.Get("error_description")})
		return
	}
	tok, err := a.OAuth.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		_ = resultPage.Execute(w, map[string]string{"Error": err.Error()})
		return
	}
	a.mu.Lock()
	a.Last = tok
	a.mu.Unlock()
	claims := payload(tok.AccessToken)
	sub, _ := claims["sub"].(string)
	scope, _ := claims["scope"].(string)
	_ = resultPage.Execute(w, map[string]string{"Sub": sub, "Scope": scope})
}

// payload decodes a JWT's claims for display; the app trusts the token
// because it received it from the token endpoint over TLS.
func payload(jwt string) map[string]any {
	parts := strings.Split(jwt, ".")
	m := map[string]any{}
	if len(parts) == 3 {
		if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			_ = json.Unmarshal(b, &m)
		}
	}
	return m
}
