package authz_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
)

const (
	rpCallback    = "https://rp.example/callback"
	rpAfterLogout = "https://rp.example/signed-out"
)

// logoutFixture is the user fixture with a fake clock, a host whose
// EndSession is recorded, and a confidential client "rp" whose
// back-channel logout endpoint is an httptest TLS server.
type logoutFixture struct {
	*userFixture
	clk       *lockedClock
	rp        *httptest.Server
	rpSecret  string
	mu        sync.Mutex
	ended     []string
	tokens    chan string
	rpAnswers chan int
	// gate, when not nil, holds the RP's answers until it is closed.
	gate chan struct{}
}

func newLogoutFixture(t *testing.T) *logoutFixture {
	t.Helper()
	f := &logoutFixture{clk: &lockedClock{t: time.Now().Truncate(time.Second)}, tokens: make(chan string, 16), rpAnswers: make(chan int, 16)}
	f.rp = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.tokens <- r.PostForm.Get("logout_token")
		f.mu.Lock()
		gate := f.gate
		f.mu.Unlock()
		if gate != nil {
			<-gate
		}
		status := http.StatusOK
		select {
		case status = <-f.rpAnswers:
		default:
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(f.rp.Close)
	f.userFixture = newUserFixture(t, func(c *authz.Config) {
		c.Now = f.clk.Now
		c.LogoutClient = f.rp.Client()
		lf := c.Login.(authz.LoginFuncs)
		lf.EndSessionFunc = func(w http.ResponseWriter, r *http.Request, userID string) {
			f.mu.Lock()
			f.ended = append(f.ended, userID)
			f.mu.Unlock()
			http.SetCookie(w, &http.Cookie{Name: "session", Path: "/", MaxAge: -1})
		}
		c.Login = lf
	})
	t.Cleanup(func() { _ = f.srv.Close() })
	var err error
	f.rpSecret, err = f.srv.CreateClient(context.Background(), &storage.Client{ID: "rp", Name: "Relying Party", RedirectURIs: []string{rpCallback},
		PostLogoutRedirectURIs: []string{rpAfterLogout}, BackchannelLogoutURI: f.rp.URL + "/backchannel", RevokeOnLogout: true,
		GrantTypes: []string{"authorization_code", "refresh_token"}})
	must(t, err)
	return f
}

func (f *logoutFixture) endedUsers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ended...)
}

// signIn runs the code flow for rp as user in b and returns the tokens.
func (f *logoutFixture) signIn(t *testing.T, b *browser, user string) *oauth2.Token {
	t.Helper()
	cfg := &oauth2.Config{ClientID: "rp", ClientSecret: f.rpSecret, RedirectURL: rpCallback, Scopes: []string{"openid", "offline_access"},
		Endpoint: oauth2.Endpoint{AuthURL: f.ts.URL + "/authorize", TokenURL: f.ts.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
	verifier := oauth2.GenerateVerifier()
	cb := f.authorize(t, b, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("audience", bankUserAPI)), user, "openid", "offline_access", "read:balance")
	tok, err := cfg.Exchange(context.Background(), cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	must(t, err)
	return tok
}

// refresh reports the error of a refresh with tok's refresh token (which
// it rotates: tok gets the new one).
func (f *logoutFixture) refresh(tok *oauth2.Token) error {
	if tok.RefreshToken == "" {
		return errors.New("no refresh token")
	}
	req, err := http.NewRequest(http.MethodPost, f.ts.URL+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("rp", f.rpSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return err
	}
	tok.RefreshToken = body.RefreshToken
	return nil
}

func idTokenClaims(t *testing.T, tok *oauth2.Token) (string, map[string]any) {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("no ID token: %q", raw)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	var claims map[string]any
	must(t, json.Unmarshal(payload, &claims))
	return raw, claims
}

// waitToken returns the next logout token the RP received.
func (f *logoutFixture) waitToken(t *testing.T) string {
	t.Helper()
	select {
	case tok := <-f.tokens:
		return tok
	case <-time.After(20 * time.Second):
		t.Fatal("no logout token delivered")
		return ""
	}
}

// verifyLogoutToken checks a logout token as an RP does, with go-oidc and
// the issuer's JWKS (OIDC Back-Channel Logout 1.0 §2.6).
func (f *logoutFixture) verifyLogoutToken(t *testing.T, raw, sub, sid string) {
	t.Helper()
	ctx := context.Background()
	keys := oidc.NewRemoteKeySet(ctx, f.srv.Issuer()+".well-known/jwks.json")
	v := oidc.NewVerifier(f.srv.Issuer(), keys, &oidc.Config{ClientID: "rp", Now: f.clk.Now})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("logout token does not verify: %v", err)
	}
	if _, err := oidc.NewVerifier(f.srv.Issuer(), keys, &oidc.Config{ClientID: "other", Now: f.clk.Now}).Verify(ctx, raw); err == nil {
		t.Fatal("logout token verifies for another client")
	}
	var claims map[string]any
	must(t, idt.Claims(&claims))
	events, _ := claims["events"].(map[string]any)
	if _, ok := events["http://schemas.openid.net/event/backchannel-logout"]; !ok {
		t.Fatalf("no back-channel logout event: %v", claims)
	}
	if _, ok := claims["nonce"]; ok {
		t.Fatalf("logout token has a nonce: %v", claims)
	}
	if claims["sub"] != sub || claims["sid"] != sid || claims["jti"] == nil || claims["iat"] == nil || claims["exp"] == nil {
		t.Fatalf("logout token claims %v, want sub %q sid %q", claims, sub, sid)
	}
	hdr, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	must(t, err)
	var h map[string]any
	must(t, json.Unmarshal(hdr, &h))
	if h["typ"] != "logout+jwt" {
		t.Fatalf("logout token typ %v", h["typ"])
	}
}

// TestLogoutRPInitiated: a code-flow sign-in gives an ID token with sid;
// logout with id_token_hint, the registered post_logout_redirect_uri and
// state ends the OP session and the host's, revokes the session's family
// (RevokeOnLogout), redirects with state, and sends the RP a logout token
// that go-oidc verifies: in the background, so an RP that hangs does not
// hold the logout, retried after the RP's 500 once the clock has moved.
func TestLogoutRPInitiated(t *testing.T) {
	f := newLogoutFixture(t)
	ctx := context.Background()
	b := f.browser(t)
	b.login(f.userFixture, "alice")
	tok := f.signIn(t, b, "alice")
	raw, claims := idTokenClaims(t, tok)
	sid, _ := claims["sid"].(string)
	sessions, err := f.srv.Sessions(ctx, "alice")
	must(t, err)
	if sid == "" || len(sessions) != 1 || sessions[0].ID != sid || len(sessions[0].Clients) != 1 || sessions[0].Clients[0].ClientID != "rp" {
		t.Fatalf("sid %q, sessions %+v", sid, sessions)
	}
	// A second sign-in of the same browser joins the same OP session.
	tok2 := f.signIn(t, b, "alice")
	if _, c2 := idTokenClaims(t, tok2); c2["sid"] != sid {
		t.Fatalf("second sign-in sid %v, want %q", c2["sid"], sid)
	}

	for _, tk := range []*oauth2.Token{tok, tok2} {
		must(t, f.refresh(tk))
	}
	f.rpAnswers <- http.StatusInternalServerError
	gate := make(chan struct{})
	f.mu.Lock()
	f.gate = gate
	f.mu.Unlock()
	f.clk.Advance(time.Hour) // the ID token has expired: the hint still counts
	loc := b.get(f.ts.URL + "/oauth/logout?" + url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {rpAfterLogout}, "state": {"af0ifjsldkj"}}.Encode())
	if loc == nil || loc.Scheme+"://"+loc.Host+loc.Path != rpAfterLogout || loc.Query().Get("state") != "af0ifjsldkj" {
		t.Fatalf("logout answered %v %d %q", loc, b.last.StatusCode, b.body)
	}
	if got := f.endedUsers(); len(got) != 1 || got[0] != "alice" {
		t.Fatalf("host EndSession calls %v", got)
	}
	if s, _ := f.srv.Sessions(ctx, "alice"); len(s) != 0 {
		t.Fatalf("sessions after logout: %+v", s)
	}
	if _, err := f.store.GetSession(ctx, sid); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetSession after logout: %v", err)
	}
	for i, tk := range []*oauth2.Token{tok, tok2} {
		if err := f.refresh(tk); err == nil {
			t.Fatalf("refresh token %d of the ended session still works", i)
		}
	}
	fam, err := f.store.GetFamily(ctx, sessions[0].Clients[0].Family)
	if err != nil || !fam.Revoked {
		t.Fatalf("family of the ended session: %+v %v", fam, err)
	}
	// The logout has answered while the RP still holds its first delivery.
	first := f.waitToken(t)
	f.mu.Lock()
	f.gate = nil
	f.mu.Unlock()
	close(gate)
	f.verifyLogoutToken(t, first, "alice", sid)
	select {
	case again := <-f.tokens:
		t.Fatalf("retried before the backoff: %q", again)
	default:
	}
	f.clk.Advance(2 * time.Second)
	second := f.waitToken(t)
	f.verifyLogoutToken(t, second, "alice", sid)
	select {
	case extra := <-f.tokens:
		f.clk.Advance(time.Minute)
		t.Fatalf("delivered again after a 200: %q", extra)
	default:
	}
}

// TestLogoutRefusesUnregisteredRedirect: a post_logout_redirect_uri the
// client did not register is an error page, never a redirect, and nothing
// is ended.
func TestLogoutRefusesUnregisteredRedirect(t *testing.T) {
	f := newLogoutFixture(t)
	b := f.browser(t)
	b.login(f.userFixture, "alice")
	tok := f.signIn(t, b, "alice")
	raw, _ := idTokenClaims(t, tok)
	for name, q := range map[string]url.Values{
		"other uri":        {"id_token_hint": {raw}, "post_logout_redirect_uri": {"https://evil.example/"}},
		"prefix":           {"id_token_hint": {raw}, "post_logout_redirect_uri": {rpAfterLogout + "/more"}},
		"another client's": {"client_id": {"bank-app"}, "post_logout_redirect_uri": {rpAfterLogout}},
		"client mismatch":  {"id_token_hint": {raw}, "client_id": {"bank-app"}, "post_logout_redirect_uri": {rpAfterLogout}},
		"no client":        {"post_logout_redirect_uri": {rpAfterLogout}},
		"forged hint":      {"id_token_hint": {raw[:len(raw)-4] + "AAAA"}, "post_logout_redirect_uri": {rpAfterLogout}},
		"long state":       {"id_token_hint": {raw}, "post_logout_redirect_uri": {rpAfterLogout}, "state": {strings.Repeat("s", 1025)}},
	} {
		if loc := b.get(f.ts.URL + "/oauth/logout?" + q.Encode()); loc != nil || b.last.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: redirected to %v, status %d", name, loc, b.last.StatusCode)
		}
	}
	if s, _ := f.srv.Sessions(context.Background(), "alice"); len(s) != 1 || len(f.endedUsers()) != 0 {
		t.Fatalf("a refused logout ended something: %+v %v", s, f.endedUsers())
	}
}

// TestLogoutConfirmation: without an id_token_hint the request is not
// provably the RP's, so the user confirms on a page whose POST carries a
// CSRF token bound to the browser; a forged or cross-browser POST ends
// nothing.
func TestLogoutConfirmation(t *testing.T) {
	f := newLogoutFixture(t)
	ctx := context.Background()
	b := f.browser(t)
	b.login(f.userFixture, "alice")
	f.signIn(t, b, "alice")
	logoutURL := f.ts.URL + "/oauth/logout"
	q := url.Values{"client_id": {"rp"}, "post_logout_redirect_uri": {rpAfterLogout}, "state": {"s1"}}
	if loc := b.get(logoutURL + "?" + q.Encode()); loc != nil || b.last.StatusCode != http.StatusOK || !strings.Contains(b.body, "Sign out?") {
		t.Fatalf("no confirmation page: %v %d %q", loc, b.last.StatusCode, b.body)
	}
	if s, _ := f.srv.Sessions(ctx, "alice"); len(s) != 1 {
		t.Fatal("the confirmation page ended the session")
	}
	form := b.consentForm()
	if b.last.Header.Get("X-Frame-Options") != "DENY" || form.Get("csrf") == "" {
		t.Fatalf("confirmation page headers %v form %v", b.last.Header, form)
	}
	forged := url.Values{}
	for k, v := range form {
		forged[k] = v
	}
	forged.Set("csrf", strings.Repeat("A", len(form.Get("csrf"))))
	if loc := b.post(logoutURL, forged); loc != nil || b.last.StatusCode != http.StatusForbidden {
		t.Fatalf("forged csrf: %v %d", loc, b.last.StatusCode)
	}
	other := f.browser(t)
	other.login(f.userFixture, "alice")
	if loc := other.post(logoutURL, form); loc != nil || other.last.StatusCode != http.StatusForbidden {
		t.Fatalf("another browser's POST: %v %d", loc, other.last.StatusCode)
	}
	if s, _ := f.srv.Sessions(ctx, "alice"); len(s) != 1 || len(f.endedUsers()) != 0 {
		t.Fatal("a refused confirmation ended something")
	}
	loc := b.post(logoutURL, form)
	if loc == nil || loc.Query().Get("state") != "s1" || !strings.HasPrefix(loc.String(), rpAfterLogout) {
		t.Fatalf("confirmed logout: %v %d %q", loc, b.last.StatusCode, b.body)
	}
	if s, _ := f.srv.Sessions(ctx, "alice"); len(s) != 0 || len(f.endedUsers()) != 1 {
		t.Fatalf("after the confirmed logout: %+v %v", s, f.endedUsers())
	}
	// Without a redirect URI the issuer shows its own signed-out page.
	b.login(f.userFixture, "alice")
	if loc := b.get(logoutURL); loc != nil || !strings.Contains(b.body, "Sign out?") {
		t.Fatalf("bare logout: %v %q", loc, b.body)
	}
	if loc := b.post(logoutURL, b.consentForm()); loc != nil || b.last.StatusCode != http.StatusOK || !strings.Contains(b.body, "signed out") {
		t.Fatalf("bare confirmed logout: %v %d %q", loc, b.last.StatusCode, b.body)
	}
}

// TestEndUserSessions: signing a user out everywhere ends each of their
// sessions (two browsers), revokes the families and notifies the RP once
// per session; another user's session stays.
func TestEndUserSessions(t *testing.T) {
	f := newLogoutFixture(t)
	ctx := context.Background()
	var toks []*oauth2.Token
	sids := map[string]bool{}
	for range 2 {
		b := f.browser(t)
		b.login(f.userFixture, "alice")
		tok := f.signIn(t, b, "alice")
		_, c := idTokenClaims(t, tok)
		sids[c["sid"].(string)] = true
		must(t, f.refresh(tok))
		toks = append(toks, tok)
	}
	bob := f.browser(t)
	bob.login(f.userFixture, "bob")
	bobTok := f.signIn(t, bob, "bob")
	if len(sids) != 2 {
		t.Fatalf("two browsers share a session: %v", sids)
	}
	must(t, f.srv.EndUserSessions(ctx, "alice"))
	if s, _ := f.srv.Sessions(ctx, "alice"); len(s) != 0 {
		t.Fatalf("sessions left: %+v", s)
	}
	if s, _ := f.srv.Sessions(ctx, "bob"); len(s) != 1 {
		t.Fatalf("bob's sessions: %+v", s)
	}
	for i, tok := range toks {
		if err := f.refresh(tok); err == nil {
			t.Fatalf("refresh token %d survived", i)
		}
	}
	must(t, f.refresh(bobTok))
	for range 2 {
		raw := f.waitToken(t)
		_, claims := idTokenClaims(t, (&oauth2.Token{}).WithExtra(map[string]any{"id_token": raw}))
		sid, _ := claims["sid"].(string)
		if !sids[sid] {
			t.Fatalf("logout token for sid %q", sid)
		}
		delete(sids, sid)
		f.verifyLogoutToken(t, raw, "alice", sid)
	}
	if err := f.srv.EndSession(ctx, "no-such-session"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("EndSession of an unknown sid: %v", err)
	}
}

// TestLogoutClientRegistration: post_logout_redirect_uris follow the rules
// of redirect_uris, and a backchannel_logout_uri must be https.
func TestLogoutClientRegistration(t *testing.T) {
	f := newLogoutFixture(t)
	ctx := context.Background()
	for name, c := range map[string]*storage.Client{
		"script uri":    {ID: "c1", PostLogoutRedirectURIs: []string{"javascript:alert(1)"}},
		"fragment":      {ID: "c2", PostLogoutRedirectURIs: []string{"https://rp.example/#x"}},
		"http channel":  {ID: "c3", BackchannelLogoutURI: "http://rp.example/bc"},
		"relative":      {ID: "c4", BackchannelLogoutURI: "/bc"},
		"user info uri": {ID: "c5", BackchannelLogoutURI: "https://u:p@rp.example/bc"},
	} {
		if _, err := f.srv.CreateClient(ctx, c); err == nil {
			t.Fatalf("%s: registered", name)
		}
	}
	var md map[string]any
	resp, err := http.Get(f.ts.URL + "/.well-known/openid-configuration")
	must(t, err)
	defer resp.Body.Close()
	must(t, json.NewDecoder(resp.Body).Decode(&md))
	if md["end_session_endpoint"] != f.ts.URL+"/oauth/logout" || md["backchannel_logout_supported"] != true || md["backchannel_logout_session_supported"] != true {
		t.Fatalf("discovery: %v %v %v", md["end_session_endpoint"], md["backchannel_logout_supported"], md["backchannel_logout_session_supported"])
	}
}

// TestLogoutHintForAnotherUser: a hint for a user other than the one
// signed in at the host does not sign that one out unasked: the
// confirmation page is shown. A hint for the signed-in user, POSTed by the
// RP, is carried out at once.
func TestLogoutHintForAnotherUser(t *testing.T) {
	f := newLogoutFixture(t)
	ctx := context.Background()
	bobBrowser := f.browser(t)
	bobBrowser.login(f.userFixture, "bob")
	raw, _ := idTokenClaims(t, f.signIn(t, bobBrowser, "bob"))
	b := f.browser(t)
	b.login(f.userFixture, "alice")
	f.signIn(t, b, "alice")
	q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {rpAfterLogout}}
	if loc := b.get(f.ts.URL + "/oauth/logout?" + q.Encode()); loc != nil || !strings.Contains(b.body, "Sign out?") {
		t.Fatalf("bob's hint in alice's browser: %v %d %q", loc, b.last.StatusCode, b.body)
	}
	if s, _ := f.srv.Sessions(ctx, "alice"); len(s) != 1 || len(f.endedUsers()) != 0 {
		t.Fatal("another user's hint ended alice's session")
	}
	if loc := bobBrowser.post(f.ts.URL+"/oauth/logout", q); loc == nil || !strings.HasPrefix(loc.String(), rpAfterLogout) {
		t.Fatalf("POSTed logout with bob's hint: %v %d %q", loc, bobBrowser.last.StatusCode, bobBrowser.body)
	}
	if s, _ := f.srv.Sessions(ctx, "bob"); len(s) != 0 {
		t.Fatalf("bob's sessions after logout: %+v", s)
	}
	if s, _ := f.srv.Sessions(ctx, "alice"); len(s) != 1 {
		t.Fatal("bob's logout ended alice's session")
	}
}
