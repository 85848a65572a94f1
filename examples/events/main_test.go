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

var hidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// TestEventsFlow drives the example end to end over HTTP with a cookie jar:
// the app starts the code flow with PKCE (golang.org/x/oauth2), the user
// signs in on the host's login page, and no consent page appears.
func TestEventsFlow(t *testing.T) {
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	defer ts.Close()
	h, app, err := build(context.Background(), ts.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = h
	for _, tc := range []struct{ user, want string }{
		{"alice", "create:events update:events"},
		{"bob", "view:events register:events"},
	} {
		t.Run(tc.user, func(t *testing.T) {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar}
			resp, err := c.Get(ts.URL + "/app")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.Request.URL.Path != "/login" {
				t.Fatalf("not sent to the login page: %s", resp.Request.URL)
			}
			form := url.Values{"user": {tc.user}}
			for _, m := range hidden.FindAllStringSubmatch(string(page), -1) {
				form.Set(m[1], html.UnescapeString(m[2])) // the page escapes & in URLs
			}
			if form.Get("csrf") == "" || form.Get("return_to") == "" {
				t.Fatalf("login form without csrf or return_to: %q", page)
			}
			resp, err = c.PostForm(ts.URL+"/login", form)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.Request.URL.Path != "/app/callback" || !strings.Contains(string(body), tc.want) {
				t.Fatalf("ended at %s with %q", resp.Request.URL, body)
			}
			if got := app.Last.Extra("scope"); got != tc.want {
				t.Fatalf("token scope %v, want %q", got, tc.want)
			}
		})
	}
}
