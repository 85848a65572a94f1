// Package flows runs whole OAuth flows of an issuer over a storage driver:
// client credentials, authorization code with PKCE, refresh rotation and
// reuse detection, through golang.org/x/oauth2 as a relying party, and the
// fail-closed behaviour of the issuer while the backend is down.
package flows

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/storagetest"
)

// flowAPI and flowCallback are the API and redirect URI of the flows.
const (
	flowAPI      = "https://flows.example.com"
	flowCallback = "http://127.0.0.1/flows/callback"
)

// Issuer is an authorization server over a driver, served on loopback, with
// an API, a machine client and a first-party app, for whole-flow tests.
type Issuer struct {
	// Server is the issuer under test.
	Server *authz.Server
	// HTTP serves Server.Handler and the protected test API on loopback.
	HTTP *httptest.Server
	// Secret is the machine client's ("svc") secret.
	Secret string
}

// NewIssuer starts an issuer over store: an API with read and write, a
// machine client "svc" granted read, a public first-party app "app", and a
// user "u1" always signed in.
func NewIssuer(t testing.TB, store storage.Store) *Issuer {
	t.Helper()
	ctx := context.Background()
	ts := httptest.NewServer(nil)
	t.Cleanup(ts.Close)
	login := authz.LoginFuncs{
		SessionFunc: func(*http.Request) (*authz.Session, error) {
			return &authz.Session{UserID: "u1", AuthTime: time.Now()}, nil
		},
		ChallengeFunc: func(w http.ResponseWriter, _ *http.Request, _ string) {
			http.Error(w, "no login", http.StatusInternalServerError)
		},
	}
	srv, err := authz.New(ctx, authz.Config{Issuer: ts.URL + "/", Store: store, Login: login,
		Grants: []authz.Grant{grant.ClientCredentials{}, grant.AuthorizationCode{}, grant.RefreshToken{}}})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	storagetest.Expect(t, store.APIs().Create(ctx, &storage.API{Identifier: flowAPI, Name: "flows", AllowSkipConsent: true,
		AllowOfflineAccess: true, Scopes: []storage.Scope{{Name: "read"}, {Name: "write"}}}), nil, "API")
	storagetest.Expect(t, store.Users().Create(ctx, &storage.User{ID: "u1", Email: "u1@example.com"}), nil, "user")
	secret, err := srv.CreateClient(ctx, &storage.Client{ID: "svc", GrantTypes: []string{"client_credentials"}})
	storagetest.Expect(t, err, nil, "machine client")
	storagetest.Expect(t, store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "svc", Audience: flowAPI, Scopes: []string{"read"}}), nil, "grant")
	_, err = srv.CreateClient(ctx, &storage.Client{ID: "app", Public: true, FirstParty: true, RedirectURIs: []string{flowCallback},
		GrantTypes: []string{"authorization_code", "refresh_token"}})
	storagetest.Expect(t, err, nil, "app")
	return &Issuer{Server: srv, HTTP: ts, Secret: secret}
}

// ClientCredentials gets a token for the machine client over HTTP.
func (is *Issuer) ClientCredentials(t testing.TB) *oauth2.Token {
	t.Helper()
	cc := clientcredentials.Config{ClientID: "svc", ClientSecret: is.Secret, TokenURL: is.HTTP.URL + "/oauth/token",
		EndpointParams: url.Values{"audience": {flowAPI}}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (is *Issuer) app() *oauth2.Config {
	return &oauth2.Config{ClientID: "app", RedirectURL: flowCallback, Scopes: []string{"read", "offline_access"},
		Endpoint: oauth2.Endpoint{AuthURL: is.HTTP.URL + "/authorize", TokenURL: is.HTTP.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
}

// Code runs /authorize with PKCE and returns a code and its verifier.
func (is *Issuer) Code(t testing.TB) (code, verifier string) {
	t.Helper()
	verifier = oauth2.GenerateVerifier()
	jar, _ := cookiejar.New(nil)
	var cb *url.URL
	c := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), flowCallback) {
			cb = r.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(is.app().AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("audience", flowAPI)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cb == nil || cb.Query().Get("code") == "" {
		t.Fatalf("no code (status %d, callback %v)", resp.StatusCode, cb)
	}
	return cb.Query().Get("code"), verifier
}

// RunFlows runs the client-credentials, authorization-code and refresh
// flows of the issuer over a fresh store of the driver.
func RunFlows(t *testing.T, newStore storagetest.NewStore) {
	ctx := context.Background()
	t.Run("ClientCredentials", func(t *testing.T) {
		is := NewIssuer(t, newStore(t))
		tok := is.ClientCredentials(t)
		rs := is.Server.Authorizer(flowAPI)
		if _, err := rs.Authorize(ctx, tok.AccessToken, resource.Requirement{AllOf: []string{"read"}}); err != nil {
			t.Fatal(err)
		}
		in, err := is.Server.Introspect(ctx, tok.AccessToken)
		if err != nil || !in.Active {
			t.Fatalf("introspection %+v %v", in, err)
		}
		storagetest.Expect(t, is.Server.Revoke(ctx, "svc", tok.AccessToken), nil, "Revoke")
		if _, err := rs.Authorize(ctx, tok.AccessToken, resource.Requirement{}); !errors.Is(err, oauth.ErrInvalidToken) {
			t.Fatalf("revoked token accepted: %v", err)
		}
	})
	t.Run("AuthorizationCodeAndRefresh", func(t *testing.T) {
		is := NewIssuer(t, newStore(t))
		app := is.app()
		code, v := is.Code(t)
		tok, err := app.Exchange(ctx, code, oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if again, err := app.Exchange(ctx, code, oauth2.VerifierOption(v)); err != nil || again.RefreshToken != tok.RefreshToken {
			t.Fatalf("a retry of the exchange (same client and verifier, within the retry window) did not get the same grant: %v", err)
		}
		// A replay with another verifier is no retry: it revokes the grant.
		if _, err := app.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Fatal("a code was redeemed twice")
		}
		if _, err := is.Server.Authorize(ctx, tok.AccessToken, resource.Requirement{Audience: flowAPI}); err == nil {
			t.Fatal("tokens of a replayed code still valid")
		}
		code, v = is.Code(t)
		tok, err = app.Exchange(ctx, code, oauth2.VerifierOption(v))
		if err != nil || tok.RefreshToken == "" {
			t.Fatalf("%v %+v", err, tok)
		}
		next, err := app.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil || next.RefreshToken == tok.RefreshToken {
			t.Fatalf("rotation: %v", err)
		}
		if again, err := app.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil || again.RefreshToken != next.RefreshToken {
			t.Fatalf("a retry of the refresh within the retry window did not get the same refresh token: %v", err)
		}
		last, err := app.TokenSource(ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token()
		if err != nil {
			t.Fatalf("rotation after a retry: %v", err)
		}
		// The successor was used: the first token again is a reuse.
		if _, err := app.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Fatal("a rotated refresh token was accepted")
		}
		if _, err := app.TokenSource(ctx, &oauth2.Token{RefreshToken: last.RefreshToken}).Token(); err == nil {
			t.Fatal("the family survived a reuse")
		}
		if _, err := is.Server.Authorize(ctx, last.AccessToken, resource.Requirement{Audience: flowAPI}); err == nil {
			t.Fatal("an access token of a revoked family was accepted")
		}
	})
}

// RunOutage checks that with the backend down (between stop and start) the
// issuer fails closed — no token issued, 503 with Retry-After at the token,
// introspection and revocation endpoints, 503 from the resource-server
// middleware — and that it works again once the backend is back, without a
// restart.
func RunOutage(t *testing.T, store storage.Store, stop, start func()) {
	is := NewIssuer(t, store)
	tok := is.ClientCredentials(t)
	api := is.Server.Authorizer(flowAPI).RequireScopes("read")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	stop()
	post := func(path string, form url.Values) (*http.Response, map[string]any) {
		req, _ := http.NewRequest("POST", is.HTTP.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("svc", is.Secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp, body
	}
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "audience": {flowAPI}}},
		{"/oauth/introspect", url.Values{"token": {tok.AccessToken}}},
		{"/oauth/revoke", url.Values{"token": {tok.AccessToken}}},
	} {
		resp, body := post(c.path, c.form)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
			body["access_token"] != nil || body["active"] != nil {
			t.Fatalf("%s with the backend down: %d %v", c.path, resp.StatusCode, body)
		}
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	api.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("resource server with the backend down: %d", rec.Code)
	}
	start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "audience": {flowAPI}})
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("issuer did not recover: %d %v", resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
