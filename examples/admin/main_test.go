package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestStory runs the example's story against the issuer over HTTP: the
// management calls create the API, client and grant, the new client's
// token is accepted by the protected route, and every call is printed as
// curl.
func TestStory(t *testing.T) {
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	defer ts.Close()
	h, boot, err := build(context.Background(), ts.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = h
	var out strings.Builder
	body, err := story(&out, ts.Client(), ts.URL, boot)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(body, `"inv_1"`) {
		t.Fatalf("protected route answered %q", body)
	}
	printed := out.String()
	for _, want := range []string{"/api/v2/resource-servers", "/api/v2/clients", "/api/v2/client-grants", "/oauth/token", "$ACCESS_TOKEN"} {
		if !strings.Contains(printed, "curl") || !strings.Contains(printed, want) {
			t.Fatalf("output lacks %q:\n%s", want, printed)
		}
	}

	// the route is protected: without a token it is refused.
	resp, err := ts.Client().Get(ts.URL + invoicesRoute)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a token of the API: %d", resp.StatusCode)
	}
}
