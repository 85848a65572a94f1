package authz_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
	"golang.org/x/oauth2"
)

const requestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// pushedParams are a valid authorization request of bank-app with PKCE.
func pushedParams(verifier string) url.Values {
	return url.Values{
		"response_type":         {"code"},
		"redirect_uri":          {bankCB},
		"scope":                 {"read:balance"},
		"audience":              {bankUserAPI},
		"state":                 {"pushed-state"},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"},
	}
}

// push sends params to the PAR endpoint as bank-app and returns the
// request_uri.
func (f *userFixture) push(t testing.TB, params url.Values) string {
	t.Helper()
	resp, body := postForm(t, f.ts.URL+"/oauth/par", params, basic("bank-app", f.bankSecret))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("push: %d %v", resp.StatusCode, body)
	}
	uri, _ := body["request_uri"].(string)
	if !strings.HasPrefix(uri, requestURIPrefix) || body["expires_in"] != float64(60) {
		t.Fatalf("push answered %v", body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	return uri
}

// pushedURL is the /authorize URL of a pushed request: client_id,
// request_uri and any extra parameters.
func (f *userFixture) pushedURL(client, requestURI string, extra url.Values) string {
	q := url.Values{"client_id": {client}, "request_uri": {requestURI}}
	for k, v := range extra {
		q[k] = v
	}
	return f.ts.URL + "/authorize?" + q.Encode()
}

// TestPARCodeFlow: a pushed request, then /authorize with its request_uri,
// then the code exchange with x/oauth2 (RFC 9126 §2, §4).
func TestPARCodeFlow(t *testing.T) {
	f := newUserFixture(t)
	b := f.browser(t)
	b.login(f, "alice")
	v := oauth2.GenerateVerifier()
	uri := f.push(t, pushedParams(v))

	cb := f.authorize(t, b, f.pushedURL("bank-app", uri, nil), "alice", "read:balance")
	if cb.Query().Get("state") != "pushed-state" || cb.Query().Get("code") == "" {
		t.Fatalf("callback %v", cb)
	}
	tok, err := f.oauth("bank-app").Exchange(context.Background(), cb.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if c := decodePayload(t, tok.AccessToken); c["aud"] != bankUserAPI || c["scope"] != "read:balance" {
		t.Fatalf("claims %v", c)
	}
}

// TestPARIgnoresParametersAlongside: with a request_uri, /authorize uses the
// pushed parameters only (RFC 9126 §4, RFC 9101 §5): a state, scope,
// redirect_uri or PKCE challenge sent alongside changes nothing.
func TestPARIgnoresParametersAlongside(t *testing.T) {
	f := newUserFixture(t)
	b := f.browser(t)
	b.login(f, "alice")
	v := oauth2.GenerateVerifier()
	uri := f.push(t, pushedParams(v))

	other := oauth2.GenerateVerifier()
	cb := f.authorize(t, b, f.pushedURL("bank-app", uri, url.Values{
		"state": {"forged"}, "scope": {"read:balance transfer:funds"}, "redirect_uri": {"https://evil.example.com/cb"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(other)}, "code_challenge_method": {"S256"},
	}), "alice", "read:balance", "transfer:funds")
	if cb.Host != "bank-app.example.com" || cb.Query().Get("state") != "pushed-state" {
		t.Fatalf("callback %v", cb)
	}
	ctx := context.Background()
	if _, err := f.oauth("bank-app").Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(other)); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("the challenge sent alongside was used: %v", err)
	}
}

// parError is the error code /authorize answered: in the redirect, or on
// its error page.
func parError(b *browser, cb *url.URL, codes ...string) string {
	if cb != nil {
		if frag, _ := url.ParseQuery(cb.Fragment); frag.Has("error") {
			return frag.Get("error")
		}
		return cb.Query().Get("error")
	}
	for _, c := range codes {
		if strings.Contains(b.body, c) {
			return c
		}
	}
	return "page without a known code: " + b.body
}

// TestPARValidatesAsAuthorize: a pushed request is refused with the error
// /authorize gives the same parameters, and nothing is stored.
func TestPARValidatesAsAuthorize(t *testing.T) {
	f := newUserFixture(t)
	b := f.browser(t)
	b.login(f, "alice")
	codes := []string{"invalid_request", "invalid_scope", "invalid_target", "unsupported_response_type"}
	for _, tc := range []struct {
		name   string
		mutate func(url.Values)
		code   string
	}{
		{"no response_type", func(p url.Values) { p.Del("response_type") }, "invalid_request"},
		{"unsupported response_type", func(p url.Values) { p.Set("response_type", "token") }, "unsupported_response_type"},
		{"unregistered redirect_uri", func(p url.Values) { p.Set("redirect_uri", "https://evil.example.com/cb") }, "invalid_request"},
		{"plain PKCE", func(p url.Values) { p.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"unknown audience", func(p url.Values) { p.Set("audience", "https://nowhere.example.com") }, "invalid_target"},
		{"bad prompt", func(p url.Values) { p.Set("prompt", "sometimes") }, "invalid_request"},
		{"oversized state", func(p url.Values) { p.Set("state", strings.Repeat("s", 5000)) }, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pushedParams(oauth2.GenerateVerifier())
			tc.mutate(p)
			resp, body := postForm(t, f.ts.URL+"/oauth/par", p, basic("bank-app", f.bankSecret))
			if resp.StatusCode != http.StatusBadRequest || body["error"] != tc.code {
				t.Fatalf("PAR: %d %v, want %s", resp.StatusCode, body, tc.code)
			}
			p.Set("client_id", "bank-app")
			if got := parError(b, b.get(f.ts.URL+"/authorize?"+p.Encode()), codes...); got != tc.code {
				t.Fatalf("/authorize answered %s, PAR %s", got, tc.code)
			}
		})
	}
}

// TestPARRefusals: the endpoint authenticates the client, and refuses a
// request_uri inside a pushed request and a client_id of another client.
func TestPARRefusals(t *testing.T) {
	f := newUserFixture(t)
	endpoint := f.ts.URL + "/oauth/par"
	p := pushedParams(oauth2.GenerateVerifier())
	for _, tc := range []struct {
		name   string
		form   url.Values
		header http.Header
		status int
		code   string
	}{
		{"no credentials", p, nil, http.StatusUnauthorized, "invalid_client"},
		{"client_id alone for a confidential client", withParam(p, "client_id", "bank-app"), nil, http.StatusUnauthorized, "invalid_client"},
		{"wrong secret", p, basic("bank-app", "wrong"), http.StatusUnauthorized, "invalid_client"},
		{"request_uri inside", withParam(p, "request_uri", requestURIPrefix+"x"), basic("bank-app", f.bankSecret), http.StatusBadRequest, "invalid_request"},
		{"client_id of another client", withParam(p, "client_id", "events-app"), basic("bank-app", f.bankSecret), http.StatusBadRequest, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := postForm(t, endpoint, tc.form, tc.header)
			if resp.StatusCode != tc.status || body["error"] != tc.code || body["request_uri"] != nil {
				t.Fatalf("%d %v, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
		})
	}
	resp, err := http.Get(endpoint + "?" + p.Encode())
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("GET answered %d", resp.StatusCode)
	}
}

func withParam(p url.Values, k, v string) url.Values {
	q := url.Values{}
	for key, vals := range p {
		q[key] = vals
	}
	q.Set(k, v)
	return q
}

// refusedURI reports whether /authorize answered with the invalid_request_uri
// page, redirecting nowhere.
func refusedURI(t testing.TB, b *browser, cb *url.URL) {
	t.Helper()
	if cb != nil || b.last.StatusCode != http.StatusBadRequest || !strings.Contains(b.body, "invalid_request_uri") {
		t.Fatalf("not refused: callback %v, %d %q", cb, b.last.StatusCode, b.body)
	}
}

// TestPARRequestURIUse: a request_uri is single use, expires after 60 s on
// the server's clock, is bound to the client that pushed it, and is no
// handle of a pending request.
func TestPARRequestURIUse(t *testing.T) {
	clk := newTestClock()
	f := newUserFixture(t, withClock(clk))
	b := f.browser(t)
	b.login(f, "alice")

	t.Run("replayed", func(t *testing.T) {
		uri := f.push(t, pushedParams(oauth2.GenerateVerifier()))
		f.authorize(t, b, f.pushedURL("bank-app", uri, nil), "alice", "read:balance")
		refusedURI(t, b, b.get(f.pushedURL("bank-app", uri, nil)))
	})
	t.Run("expired", func(t *testing.T) {
		uri := f.push(t, pushedParams(oauth2.GenerateVerifier()))
		live := f.push(t, pushedParams(oauth2.GenerateVerifier()))
		clk.add(59 * time.Second)
		f.authorize(t, b, f.pushedURL("bank-app", live, nil), "alice", "read:balance")
		clk.add(2 * time.Second)
		refusedURI(t, b, b.get(f.pushedURL("bank-app", uri, nil)))
	})
	t.Run("another client's", func(t *testing.T) {
		uri := f.push(t, pushedParams(oauth2.GenerateVerifier()))
		refusedURI(t, b, b.get(f.pushedURL("events-app", uri, nil)))
		// Presented by another client, it was not consumed.
		f.authorize(t, b, f.pushedURL("bank-app", uri, nil), "alice", "read:balance")
	})
	t.Run("without client_id", func(t *testing.T) {
		uri := f.push(t, pushedParams(oauth2.GenerateVerifier()))
		if cb := b.get(f.ts.URL + "/authorize?request_uri=" + url.QueryEscape(uri)); cb != nil || b.last.StatusCode != http.StatusBadRequest {
			t.Fatalf("callback %v, %d", cb, b.last.StatusCode)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		for _, uri := range []string{"https://attacker.example.com/req", requestURIPrefix, requestURIPrefix + strings.Repeat("a", 5000)} {
			refusedURI(t, b, b.get(f.pushedURL("bank-app", uri, nil)))
		}
	})
	t.Run("a pending request's id", func(t *testing.T) {
		anon := f.browser(t)
		cfg := f.oauth("bank-app")
		anon.get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		id := anon.last.Request.URL.Query().Get("return_to")
		ret, err := url.Parse(id)
		must(t, err)
		pending := ret.Query().Get("id")
		if pending == "" {
			t.Fatalf("no pending request in %v", anon.last.Request.URL)
		}
		refusedURI(t, b, b.get(f.pushedURL("bank-app", requestURIPrefix+pending, nil)))
	})
}

// TestPARConcurrentUse: of N browsers presenting one request_uri at once,
// exactly one proceeds (the take is atomic).
func TestPARConcurrentUse(t *testing.T) {
	f := newUserFixture(t)
	uri := f.push(t, pushedParams(oauth2.GenerateVerifier()))
	const n = 8
	browsers := make([]*browser, n)
	for i := range browsers {
		browsers[i] = f.browser(t)
		browsers[i].login(f, "alice")
	}
	var wg sync.WaitGroup
	refused := make([]bool, n)
	for i, b := range browsers {
		wg.Go(func() {
			b.get(f.pushedURL("bank-app", uri, nil))
			refused[i] = b.last.StatusCode == http.StatusBadRequest && strings.Contains(b.body, "invalid_request_uri")
		})
	}
	wg.Wait()
	proceeded := 0
	for i, r := range refused {
		if !r {
			proceeded++
			if !strings.Contains(browsers[i].body, "wants to access your account") {
				t.Fatalf("browser %d: %d %q", i, browsers[i].last.StatusCode, browsers[i].body)
			}
		}
	}
	if proceeded != 1 {
		t.Fatalf("%d browsers proceeded, want 1", proceeded)
	}
}

// TestPARRequired: a client registered with
// RequirePushedAuthorizationRequests, or every client under
// Config.RequirePushedAuthorizationRequests, gets invalid_request for a
// plain /authorize and proceeds with a pushed one; discovery says so.
func TestPARRequired(t *testing.T) {
	plain := func(t *testing.T, f *userFixture, b *browser) {
		t.Helper()
		cb := b.get(f.oauth("bank-app").AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("audience", bankUserAPI)))
		if cb == nil || cb.Query().Get("error") != "invalid_request" || cb.Query().Get("code") != "" {
			t.Fatalf("plain /authorize: callback %v, %d %q", cb, b.last.StatusCode, b.body)
		}
	}
	t.Run("per client", func(t *testing.T) {
		f := newUserFixture(t)
		ctx := context.Background()
		c, err := f.store.Clients().Get(ctx, "bank-app")
		must(t, err)
		c.RequirePushedAuthorizationRequests = true
		must(t, f.store.Clients().Update(ctx, c))
		b := f.browser(t)
		b.login(f, "alice")
		plain(t, f, b)
		f.authorize(t, b, f.pushedURL("bank-app", f.push(t, pushedParams(oauth2.GenerateVerifier())), nil), "alice", "read:balance")
		// Another client is not concerned.
		cb := f.authorize(t, b, f.oauth("events-app").AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "alice")
		if cb.Query().Get("code") == "" {
			t.Fatalf("events-app: %v", cb)
		}
		if f.srv.Metadata().RequirePushedAuthorizationRequests {
			t.Fatal("discovery requires PAR of every client")
		}
	})
	t.Run("server-wide", func(t *testing.T) {
		f := newUserFixture(t, func(c *authz.Config) { c.RequirePushedAuthorizationRequests = true })
		b := f.browser(t)
		b.login(f, "alice")
		plain(t, f, b)
		f.authorize(t, b, f.pushedURL("bank-app", f.push(t, pushedParams(oauth2.GenerateVerifier())), nil), "alice", "read:balance")
		m := f.srv.Metadata()
		if !m.RequirePushedAuthorizationRequests || m.PushedAuthorizationRequestEndpoint != f.ts.URL+"/oauth/par" {
			t.Fatalf("metadata %+v", m)
		}
	})
	t.Run("needs a redirect URI", func(t *testing.T) {
		f := newUserFixture(t)
		_, err := f.srv.CreateClient(context.Background(), &storage.Client{ID: "m2m", Name: "m2m",
			GrantTypes: []string{"client_credentials"}, RequirePushedAuthorizationRequests: true})
		if err == nil {
			t.Fatal("a client without redirect URIs was made to push")
		}
	})
}
