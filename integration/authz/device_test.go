package authz_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz/oauth"
)

// TestDeviceFlowWithOAuth2Client runs the device flow with x/oauth2's
// DeviceAuth and DeviceAccessToken as the device: the user enters the code
// on the verification page, signs in and approves; the device gets tokens
// decided by RBAC, as /authorize decides them.
func TestDeviceFlowWithOAuth2Client(t *testing.T) {
	f := newDeviceFixture(t, false)
	ctx := context.Background()
	cfg := &oauth2.Config{ClientID: "tv-app", Scopes: []string{"openid", "create:events", "view:events", "offline_access"},
		Endpoint: oauth2.Endpoint{DeviceAuthURL: f.deviceURL, TokenURL: f.tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	da, err := cfg.DeviceAuth(ctx, oauth2.SetAuthURLParam("audience", eventsAPI))
	must(t, err)
	if len(da.UserCode) != 9 || da.UserCode[4] != '-' || strings.Trim(da.UserCode, "BCDFGHJKLMNPQRSTVWXZ-") != "" ||
		da.VerificationURI != f.ts.URL+"/device" || da.Interval != 1 || da.Expiry.IsZero() {
		t.Fatalf("device authorization %+v", da)
	}
	page := f.verify(t, f.browser(t), da.VerificationURIComplete, "", "alice", "allow", nil)
	if !strings.Contains(page, "Device connected") {
		t.Fatalf("approval page %q", page)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da, oauth2.SetAuthURLParam("client_id", "tv-app"))
	must(t, err)
	claims := decodePayload(t, tok.AccessToken)
	// alice is an organizer: RBAC keeps create:events and drops view:events.
	if claims["sub"] != "alice" || !contains(audiences(claims["aud"]), eventsAPI) || claims["scope"] != "openid create:events offline_access" ||
		claims["gty"] != oauth.GrantDeviceCode || claims["client_id"] != "tv-app" {
		t.Fatalf("access token claims %v", claims)
	}
	if tok.RefreshToken == "" || tok.Extra("id_token") == nil {
		t.Fatalf("no refresh or ID token: %+v", tok)
	}
	// The refresh token continues the family at the token endpoint.
	next, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	must(t, err)
	if next.AccessToken == "" || next.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh %+v", next)
	}
}

// TestDeviceAuthorizationRefusals: the device authorization endpoint
// authenticates the client as the token endpoint does and validates what
// /authorize validates.
func TestDeviceAuthorizationRefusals(t *testing.T) {
	f := newDeviceFixture(t, true)
	cases := []struct {
		name   string
		form   map[string]string
		header http.Header
		status int
		code   string
	}{
		{"unknown client", map[string]string{"client_id": "ghost"}, nil, 401, "invalid_client"},
		{"no client", map[string]string{}, nil, 401, "invalid_client"},
		{"client without the grant type", map[string]string{"client_id": "events-app"}, nil, 400, "unauthorized_client"},
		{"confidential without secret", map[string]string{"client_id": "tv-secret"}, nil, 401, "invalid_client"},
		{"confidential with a wrong secret", map[string]string{}, basic("tv-secret", "wrong"), 401, "invalid_client"},
		{"unknown audience", map[string]string{"client_id": "tv-app", "audience": "https://nope.example.com"}, nil, 400, "invalid_target"},
		{"malformed resource", map[string]string{"client_id": "tv-app", "resource": "not a uri"}, nil, 400, "invalid_target"},
		{"too long a scope", map[string]string{"client_id": "tv-app", "scope": strings.Repeat("x", 200)}, nil, 400, "invalid_scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := map[string][]string{}
			for k, v := range tc.form {
				form[k] = []string{v}
			}
			resp, body := postForm(t, f.deviceURL, form, tc.header)
			expectError(t, resp.StatusCode, body, tc.status, tc.code)
		})
	}
	resp, body := postForm(t, f.deviceURL, map[string][]string{"audience": {eventsAPI}}, basic("tv-secret", f.tvSecret))
	if resp.StatusCode != 200 || body["device_code"] == nil {
		t.Fatalf("confidential client with Basic: %d %v", resp.StatusCode, body)
	}
	if get := httpRoundTrip(t, f.srv.Handler(), "GET", "/oauth/device/code", ""); get.Code != 400 {
		t.Fatalf("GET: %d", get.Code)
	}
}

// TestDevicePolling walks a device code through every answer of the token
// endpoint (RFC 8628 §3.5) on a moved clock.
func TestDevicePolling(t *testing.T) {
	f := newDeviceFixture(t, true)
	da := f.authorizeDevice(t, "openid view:events")
	dc := da["device_code"].(string)
	if da["interval"] != float64(5) || da["expires_in"] != float64(600) {
		t.Fatalf("device authorization %v", da)
	}
	status, body := f.poll(t, "tv-app", "", "")
	expectError(t, status, body, 400, "invalid_request")
	status, body = f.poll(t, "tv-app", "", "BCDFBCDF.forged")
	expectError(t, status, body, 400, "invalid_grant")
	status, body = f.poll(t, "tv-app", "", dc+"x")
	expectError(t, status, body, 400, "invalid_grant")
	// Another client presenting the code learns nothing and records nothing.
	status, body = f.poll(t, "tv-secret", f.tvSecret, dc)
	expectError(t, status, body, 400, "invalid_grant")

	// Too soon: slow_down, and the grown interval is enforced.
	f.clk.Advance(time.Second)
	status, body = f.poll(t, "tv-app", "", dc)
	expectError(t, status, body, 400, "slow_down")
	f.clk.Advance(6 * time.Second) // the interval is now 10 s
	status, body = f.poll(t, "tv-app", "", dc)
	expectError(t, status, body, 400, "slow_down")
	f.clk.Advance(15 * time.Second) // the interval is now 15 s
	status, body = f.poll(t, "tv-app", "", dc)
	expectError(t, status, body, 400, "authorization_pending")

	// Bob (participant) approves; the next poll gets his tokens, once.
	page := f.verify(t, f.browser(t), da["verification_uri_complete"].(string), "", "bob", "allow", nil)
	if !strings.Contains(page, "Device connected") {
		t.Fatalf("approval %q", page)
	}
	f.clk.Advance(15 * time.Second)
	status, body = f.poll(t, "tv-app", "", dc)
	if status != 200 {
		t.Fatalf("poll after approval: %d %v", status, body)
	}
	at := body["access_token"].(string)
	if c := decodePayload(t, at); c["sub"] != "bob" || c["scope"] != "openid view:events" {
		t.Fatalf("claims %v", c)
	}
	// A second take is invalid_grant; the first's tokens stay (a retried
	// poll of the device itself must not revoke what it just got).
	f.clk.Advance(15 * time.Second)
	status, body = f.poll(t, "tv-app", "", dc)
	expectError(t, status, body, 400, "invalid_grant")
	in, err := f.srv.Introspect(context.Background(), at)
	must(t, err)
	if !in.Active {
		t.Fatal("a second poll revoked the tokens of the first")
	}
}

// TestDeviceDeniedAndExpired: a denial is access_denied for the device; a
// code past its lifetime is expired_token, and no longer accepted on the
// verification page.
func TestDeviceDeniedAndExpired(t *testing.T) {
	f := newDeviceFixture(t, true)
	denied := f.authorizeDevice(t, "openid")
	page := f.verify(t, f.browser(t), denied["verification_uri"].(string), denied["user_code"].(string), "alice", "deny", nil)
	if !strings.Contains(page, "Request denied") {
		t.Fatalf("denial page %q", page)
	}
	f.clk.Advance(5 * time.Second)
	status, body := f.poll(t, "tv-app", "", denied["device_code"].(string))
	expectError(t, status, body, 400, "access_denied")

	expired := f.authorizeDevice(t, "openid")
	f.clk.Advance(10 * time.Minute)
	status, body = f.poll(t, "tv-app", "", expired["device_code"].(string))
	expectError(t, status, body, 400, "expired_token")
	b := f.browser(t)
	b.get(expired["verification_uri_complete"].(string))
	m := entryCSRF.FindStringSubmatch(b.body)
	b.post(f.ts.URL+"/device", map[string][]string{"csrf": {m[1]}, "user_code": {expired["user_code"].(string)}})
	if b.last.StatusCode != 400 || !strings.Contains(b.body, "Unknown or expired code") {
		t.Fatalf("expired code on the page: %d %q", b.last.StatusCode, b.body)
	}
}

// TestDeviceCodeTakenOnceUnderConcurrency: of parallel polls of an approved
// device code exactly one gets tokens.
func TestDeviceCodeTakenOnceUnderConcurrency(t *testing.T) {
	f := newDeviceFixture(t, true)
	da := f.authorizeDevice(t, "openid view:events")
	f.verify(t, f.browser(t), da["verification_uri_complete"].(string), "", "bob", "allow", nil)
	f.clk.Advance(time.Minute)
	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[int]int{}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body := f.poll(t, "tv-app", "", da["device_code"].(string))
			mu.Lock()
			got[status]++
			if status != 200 && body["error"] != "invalid_grant" && body["error"] != "slow_down" {
				t.Errorf("poll answered %d %v", status, body)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if got[200] != 1 || got[400] != n-1 {
		t.Fatalf("statuses %v: want exactly one 200", got)
	}
}

// TestDevicePageNeverApprovesFromTheURL: arriving with the code in the URL
// only fills the form (RFC 8628 §5.4); the page is not frameable, its
// forms are CSRF-protected, and the consent page is that of /authorize.
func TestDevicePageNeverApprovesFromTheURL(t *testing.T) {
	f := newDeviceFixture(t, true)
	da := f.authorizeDevice(t, "openid view:events")
	complete := da["verification_uri_complete"].(string)
	b := f.browser(t)
	b.login(f.userFixture, "bob")
	b.get(complete)
	h := b.last.Header
	if b.last.StatusCode != 200 || !strings.Contains(b.body, `value="`+da["user_code"].(string)+`"`) ||
		h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("entry page %d %v %q", b.last.StatusCode, h, b.body)
	}
	f.clk.Advance(5 * time.Second)
	status, body := f.poll(t, "tv-app", "", da["device_code"].(string))
	expectError(t, status, body, 400, "authorization_pending")

	// The entry form without its token (a cross-site post) is refused.
	b.post(f.ts.URL+"/device", map[string][]string{"user_code": {da["user_code"].(string)}})
	if b.last.StatusCode != 403 {
		t.Fatalf("entry post without token: %d", b.last.StatusCode)
	}
	// Signed in already: entering the code shows the consent page at once,
	// not frameable; a forged consent post is refused.
	m := entryCSRF.FindStringSubmatch(func() string { b.get(complete); return b.body }())
	b.post(f.ts.URL+"/device", map[string][]string{"csrf": {m[1]}, "user_code": {strings.ToLower(da["user_code"].(string))}})
	if !strings.Contains(b.body, "wants to access your account") || b.last.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("consent page %d %q", b.last.StatusCode, b.body)
	}
	cf := b.consentForm()
	cf.Set("csrf", "forged")
	cf.Set("decision", "allow")
	b.post(f.ts.URL+"/device/consent", cf)
	if b.last.StatusCode != 403 {
		t.Fatalf("forged consent: %d %q", b.last.StatusCode, b.body)
	}
	// A consent form of /authorize cannot be posted here: the request is
	// bound to the page that started it.
	f.clk.Advance(5 * time.Second)
	status, body = f.poll(t, "tv-app", "", da["device_code"].(string))
	expectError(t, status, body, 400, "authorization_pending")
}

// TestDeviceUserCodeGuessing: wrong codes are bounded per source address;
// past the limit even the right code is not looked up, from that address
// only, until the window passes.
func TestDeviceUserCodeGuessing(t *testing.T) {
	f := newDeviceFixture(t, true)
	da := f.authorizeDevice(t, "openid")
	right := da["user_code"].(string)
	enter := func(remote, code string) int {
		get := f.servePage("GET", "/device", remote, nil)
		m := entryCSRF.FindStringSubmatch(get.Body.String())
		var cookie *http.Cookie
		for _, c := range get.Result().Cookies() {
			if c.Name == "sk_device" {
				cookie = c
			}
		}
		return f.servePage("POST", "/device", remote, map[string][]string{"csrf": {m[1]}, "user_code": {code}}, cookie).Code
	}
	attacker := "203.0.113.7:4000"
	wrong := "BBBB-BBBB"
	if wrong == right {
		wrong = "CCCC-CCCC"
	}
	for i := range 10 {
		if code := enter(attacker, wrong); code != 400 {
			t.Fatalf("wrong code %d: %d", i, code)
		}
	}
	if code := enter(attacker, right); code != http.StatusTooManyRequests {
		t.Fatalf("the right code past the limit: %d, want 429", code)
	}
	// Malformed input is refused without a lookup and counts nothing.
	if code := enter("198.51.100.1:1", "AEIOU"); code != 400 {
		t.Fatalf("malformed code: %d", code)
	}
	// Another address (the user's) is not locked out; an IPv6 attacker is
	// limited by its /64, whatever its address in it.
	if code := enter("198.51.100.1:1", right); code != http.StatusFound && code != 200 {
		t.Fatalf("the user's address: %d", code)
	}
	for i := range 10 {
		enter(fmt.Sprintf("[2001:db8:1:2::%x]:1", i+1), wrong)
	}
	if code := enter("[2001:db8:1:2::ff]:1", wrong); code != http.StatusTooManyRequests {
		t.Fatalf("IPv6 /64: %d, want 429", code)
	}
	f.clk.Advance(16 * time.Minute)
	if code := enter(attacker, wrong); code != 400 {
		t.Fatalf("after the window: %d", code)
	}
}

// TestDeviceDiscovery: discovery lists the device authorization endpoint
// and the grant type exactly when the grant is registered.
func TestDeviceDiscovery(t *testing.T) {
	f := newDeviceFixture(t, true)
	m := f.srv.Metadata()
	if m.DeviceAuthorizationEndpoint != f.ts.URL+"/oauth/device/code" || !contains(m.GrantTypesSupported, oauth.GrantDeviceCode) {
		t.Fatalf("with the grant: %+v", m)
	}
	plain := newUserFixture(t)
	m = plain.srv.Metadata()
	if m.DeviceAuthorizationEndpoint != "" || contains(m.GrantTypesSupported, oauth.GrantDeviceCode) {
		t.Fatalf("without the grant: %+v", m)
	}
	for _, p := range []string{"/oauth/device/code", "/device"} {
		if w := httpRoundTrip(t, plain.srv.Handler(), "GET", p, ""); w.Code != 404 {
			t.Fatalf("%s without the grant: %d", p, w.Code)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
