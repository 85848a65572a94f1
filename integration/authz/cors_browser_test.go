package authz_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/scopekit/scopekit/storage"
)

// spaServer serves a single-page application from its own origin: /app
// makes a PKCE pair and goes to the issuer's /authorize; /cb exchanges the
// code with fetch() at the token endpoint and calls /userinfo with the
// access token (an Authorization header: a preflight), and writes the
// outcome into a new #out.
func spaServer(t *testing.T, issuer, clientID string) *httptest.Server {
	t.Helper()
	var ts *httptest.Server
	mux := http.NewServeMux()
	page := func(script string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			cfg, _ := json.Marshal(map[string]string{"issuer": issuer, "client": clientID, "cb": ts.URL + "/cb"})
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, `<!doctype html><html><body><script>
const cfg = `+string(cfg)+`;
const b64url = b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const out = s => { const o = document.createElement("pre"); o.textContent = s; o.id = "out"; document.body.append(o); };
`+script+`</script></body></html>`)
		}
	}
	mux.HandleFunc("/app", page(`(async () => {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  sessionStorage.setItem("verifier", verifier);
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  location = cfg.issuer + "authorize?" + new URLSearchParams({client_id: cfg.client, response_type: "code",
    scope: "openid email", state: "st", redirect_uri: cfg.cb, code_challenge: challenge, code_challenge_method: "S256"});
})();`))
	mux.HandleFunc("/cb", page(`(async () => {
  try {
    const code = new URLSearchParams(location.search).get("code");
    const tr = await fetch(cfg.issuer + "oauth/token", {method: "POST", body: new URLSearchParams({grant_type: "authorization_code",
      code, redirect_uri: cfg.cb, client_id: cfg.client, code_verifier: sessionStorage.getItem("verifier")})});
    const tok = await tr.json();
    if (!tok.access_token) { out("token: " + JSON.stringify(tok)); return; }
    const ur = await fetch(cfg.issuer + "userinfo", {headers: {Authorization: "Bearer " + tok.access_token}});
    out(JSON.stringify({userinfo: await ur.json(), token_type: tok.token_type}));
  } catch (e) { out("fetch failed: " + e); }
})();`))
	ts = httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

// TestCORSCodeFlowFromSinglePageApp: a single-page application on another
// origin runs the code flow with PKCE in Chromium, exchanging the code with
// fetch() and calling /userinfo; the same application served from an
// origin the client did not register reads nothing: the browser refuses
// the response (no Access-Control-Allow-Origin).
func TestCORSCodeFlowFromSinglePageApp(t *testing.T) {
	f := newOIDCFixture(t, false)
	ctx := context.Background()
	issuer := f.srv.Issuer()
	good, bad := spaServer(t, issuer, "spa-cors"), spaServer(t, issuer, "spa-cors")
	_, err := f.srv.CreateClient(ctx, &storage.Client{ID: "spa-cors", Name: "SPA", Public: true, FirstParty: true,
		RedirectURIs: []string{good.URL + "/cb", bad.URL + "/cb"}, GrantTypes: []string{"authorization_code"},
		AllowedOrigins: []string{good.URL}})
	must(t, err)
	bctx := chromium(t)
	run := func(spa *httptest.Server) string {
		t.Helper()
		err := chromedp.Do(bctx,
			chromedp.Navigate(f.ts.URL+"/login?user=alice&return_to="+url.QueryEscape(spa.URL+"/app")),
			chromedp.WaitVisible(chromedp.ID("out")),
		)
		if err != nil {
			t.Fatal(err)
		}
		text, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("out")))
		must(t, err)
		return text
	}

	text := run(good)
	var res struct {
		Userinfo  map[string]any `json:"userinfo"`
		TokenType string         `json:"token_type"`
	}
	if err := json.Unmarshal([]byte(text), &res); err != nil || res.Userinfo["sub"] != "alice" || res.TokenType != "Bearer" ||
		res.Userinfo["email"] != "alice@example.com" {
		t.Fatalf("registered origin: %s (%v)", text, err)
	}

	if text := run(bad); !strings.HasPrefix(text, "fetch failed: TypeError") {
		t.Fatalf("unregistered origin read the token response: %s", text)
	}
}
