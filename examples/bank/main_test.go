package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func startBank(t *testing.T) (*httptest.Server, func() string) {
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	h, app, err := build(context.Background(), ts.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = h
	return ts, func() string { s, _ := app.Last.Extra("scope").(string); return s }
}

var hidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// TestBankFlow drives the example over HTTP with a cookie jar: login,
// consent page with read:balance kept and transfer:funds unticked, token.
func TestBankFlow(t *testing.T) {
	ts, scope := startBank(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(ts.URL + "/app")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.PostForm(ts.URL+"/login", url.Values{"user": {"jane"}, "return_to": {resp.Request.URL.Query().Get("return_to")}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "Transfer funds from your account") {
		t.Fatalf("no consent page: %q", page)
	}
	form := url.Values{"scope": {"read:balance"}, "decision": {"allow"}}
	for _, m := range hidden.FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], m[2])
	}
	resp, err = c.PostForm(ts.URL+"/authorize/consent", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/app/callback" || scope() != "read:balance" {
		t.Fatalf("ended at %s with scope %q: %q", resp.Request.URL, scope(), body)
	}
}
