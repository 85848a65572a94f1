package replicas_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
)

const (
	callback = "http://127.0.0.1/cb"
	// replicas is how many issuer processes share the backend.
	replicas = 3
)

// env is a backend, the directory set up in it, and the replicas over it.
type env struct {
	urls      []string
	store     storage.Store
	svcSecret string
}

// setup writes the directory through an issuer in the test process (it
// also creates the tenant's first signing key), then starts the replicas.
func setup(t testing.TB, kind, backend, database string) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, closeStore, err := openStore(ctx, kind, backend, database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeStore)
	admin, err := authz.New(ctx, config(store, keyReloadInterval, keyPublishDelay))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	must(t, store.APIs().Create(ctx, &storage.API{Identifier: api, Name: "API", AllowSkipConsent: true, AllowOfflineAccess: true,
		Scopes: []storage.Scope{{Name: "read"}}}))
	must(t, store.Users().Create(ctx, &storage.User{ID: "alice", Name: "Alice"}))
	e := &env{store: store}
	e.svcSecret, err = admin.CreateClient(ctx, &storage.Client{ID: "svc", Name: "svc", GrantTypes: []string{"client_credentials"}})
	must(t, err)
	must(t, store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "svc", Audience: api, Scopes: []string{"read"}}))
	_, err = admin.CreateClient(ctx, &storage.Client{ID: "app", Name: "app", Public: true, FirstParty: true,
		RedirectURIs: []string{callback}, GrantTypes: []string{"authorization_code", "refresh_token"}})
	must(t, err)
	e.urls = startReplicas(t, replicas, kind, backend, database)
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// answer is one HTTP answer of a replica.
type answer struct {
	status int
	body   map[string]any
	header http.Header
	err    error
}

func (a answer) str(k string) string { s, _ := a.body[k].(string); return s }

var httpClient = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// post sends a form to a replica, with Basic credentials when user is set.
func post(c *http.Client, base, path string, form url.Values, user, secret string) answer {
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, secret)
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	_ = json.NewDecoder(resp.Body).Decode(&a.body)
	return a
}

func (e *env) clientToken(base string) answer {
	return post(httpClient, base, "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "audience": {api}}, "svc", e.svcSecret)
}

func (e *env) introspect(base, tok string) bool {
	a := post(httpClient, base, "/oauth/introspect", url.Values{"token": {tok}}, "svc", e.svcSecret)
	return a.status == 200 && a.body["active"] == true
}

// callAPI calls the replica's API guarded by RequireScopes("read").
func callAPI(base, tok string) int {
	req, _ := http.NewRequest(http.MethodGet, base+"/api", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// code runs /authorize at a replica for alice (signed in, first-party:
// no consent) and returns the code and its PKCE verifier.
func code(t *testing.T, base string) (string, string) {
	t.Helper()
	verifier := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("v", 16) + time.Now().Format(time.RFC3339Nano)))
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {callback}, "state": {"s"},
		"scope": {"openid offline_access read"}, "audience": {api}, "code_challenge_method": {"S256"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}}
	req, _ := http.NewRequest(http.MethodGet, base+"/authorize?"+q.Encode(), nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: "alice"})
	resp, err := httpClient.Do(req)
	must(t, err)
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	must(t, err)
	c := loc.Query().Get("code")
	if c == "" {
		t.Fatalf("/authorize answered %d, Location %q", resp.StatusCode, loc)
	}
	return c, verifier
}

func exchange(c *http.Client, base, code, verifier string) answer {
	return post(c, base, "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {callback}, "client_id": {"app"}, "code_verifier": {verifier}}, "", "")
}

func refresh(c *http.Client, base, rt string) answer {
	return post(c, base, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"app"}}, "", "")
}

// grantOf returns a fresh grant's tokens, from a code of replica 0.
func (e *env) grantOf(t *testing.T) answer {
	t.Helper()
	c, v := code(t, e.urls[0])
	a := exchange(httpClient, e.urls[0], c, v)
	if a.status != 200 || a.str("refresh_token") == "" {
		t.Fatalf("exchange: %d %v %v", a.status, a.body, a.err)
	}
	return a
}

// parallel runs f(i) for i in [0, n) at once and returns the answers.
func parallel(n int, f func(i int) answer) []answer {
	out := make([]answer, n)
	done := make(chan struct{})
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			out[i] = f(i)
			done <- struct{}{}
		}()
	}
	close(start)
	for range n {
		<-done
	}
	return out
}
