package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// startBank serves the issuer and the payment app on two servers: two
// origins, as for a real third-party app.
func startBank(t *testing.T) (issuer, app *httptest.Server, scope func() string) {
	issuer = httptest.NewUnstartedServer(nil)
	issuer.Start()
	t.Cleanup(issuer.Close)
	app = httptest.NewUnstartedServer(nil)
	app.Start()
	t.Cleanup(app.Close)
	ih, ah, a, err := build(context.Background(), issuer.URL+"/", app.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	issuer.Config.Handler, app.Config.Handler = ih, ah
	return issuer, app, func() string {
		if a.Last == nil {
			return ""
		}
		s, _ := a.Last.Extra("scope").(string)
		return s
	}
}

var hidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

func hiddenFields(page string) url.Values {
	form := url.Values{}
	for _, m := range hidden.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], html.UnescapeString(m[2])) // the page escapes & in URLs
	}
	return form
}

func read(t *testing.T, resp *http.Response, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestBankFlow drives the example over HTTP with a cookie jar: login,
// consent page with read:balance kept and transfer:funds unticked, token.
func TestBankFlow(t *testing.T) {
	issuer, app, scope := startBank(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(app.URL + "/app")
	page := read(t, resp, err)
	if resp.Request.URL.Host != strings.TrimPrefix(issuer.URL, "http://") || resp.Request.URL.Path != "/login" {
		t.Fatalf("not sent to the issuer's login page: %s", resp.Request.URL)
	}
	login := hiddenFields(page)
	login.Set("user", "jane")
	resp, err = c.PostForm(issuer.URL+"/login", login)
	page = read(t, resp, err)
	if !strings.Contains(page, "Transfer funds from your account") {
		t.Fatalf("no consent page: %q", page)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+app.URL) || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("consent CSP %q must allow the redirect to the app's origin %s", csp, app.URL)
	}
	form := hiddenFields(page)
	form["scope"] = []string{"read:balance"}
	form.Set("decision", "allow")
	resp, err = c.PostForm(issuer.URL+"/authorize/consent", form)
	body := read(t, resp, err)
	if resp.Request.URL.Host != strings.TrimPrefix(app.URL, "http://") || resp.Request.URL.Path != "/app/callback" || scope() != "read:balance" {
		t.Fatalf("ended at %s with scope %q: %q", resp.Request.URL, scope(), body)
	}
}

// TestBankLoginRequiresCSRF: a sign-in posted without the login form's
// token (a cross-site form) signs nobody in.
func TestBankLoginRequiresCSRF(t *testing.T) {
	issuer, _, _ := startBank(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(issuer.URL + "/login?return_to=/")
	read(t, resp, err)
	resp, err = c.PostForm(issuer.URL+"/login", url.Values{"user": {"jane"}, "return_to": {"/"}})
	read(t, resp, err)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without CSRF token: %d", resp.StatusCode)
	}
	u, _ := url.Parse(issuer.URL)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "demo_session" {
			t.Fatal("a session was created")
		}
	}
}
