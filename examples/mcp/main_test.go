package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// startApp serves the example on a loopback port, as `go run` does.
func startApp(t *testing.T) (*httptest.Server, *app) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	a, err := newApp(context.Background(), "http://"+ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = a.handler
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, a
}

// TestMCPDiscoveryToToolCall: from a bare 401 the client finds the
// metadata, the authorization server, a token for the resource, and calls
// the tool.
func TestMCPDiscoveryToToolCall(t *testing.T) {
	_, a := startApp(t)
	c := &Client{HTTP: http.DefaultClient, ClientID: agentID, ClientSecret: a.secret}
	got, err := c.CallTool(t.Context(), a.mcpURL, "add", map[string]any{"a": 2, "b": 3.5})
	if err != nil || got != "5.5" {
		t.Fatalf("CallTool = %q, %v", got, err)
	}
	c.ClientSecret = "wrong"
	if _, err := c.CallTool(t.Context(), a.mcpURL, "add", map[string]any{"a": 1, "b": 1}); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("a wrong secret: %v", err)
	}
}

// TestMCPRun: the program's walk-through prints the tool's result.
func TestMCPRun(t *testing.T) {
	var out strings.Builder
	if err := run("127.0.0.1:0", false, &out); err != nil || !strings.Contains(out.String(), "tool result: 5\n") {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
}

// TestMCPMetadataDocument: the document names the resource, its issuer,
// its scopes and the header bearer method; challenges name it.
func TestMCPMetadataDocument(t *testing.T) {
	ts, a := startApp(t)
	resp, err := http.Post(a.mcpURL, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	metaURL := challengeParam(resp.Header.Get("WWW-Authenticate"), "resource_metadata")
	if metaURL != ts.URL+"/.well-known/oauth-protected-resource/mcp" {
		t.Fatalf("challenge %q", resp.Header.Get("WWW-Authenticate"))
	}
	resp, err = http.Get(metaURL)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	want := `{"authorization_servers":["` + ts.URL + `/"],"bearer_methods_supported":["header"],"resource":"` + a.mcpURL +
		`","resource_name":"Calculator tools","scopes_supported":["tools:call"]}`
	norm, _ := json.Marshal(doc)
	if string(norm) != want {
		t.Fatalf("metadata\n%s\nwant\n%s", norm, want)
	}
}

// TestMCPClientRefusesForeignMetadata: a resource whose challenge points
// to metadata of another resource does not get the client's credentials
// (RFC 9728 §3.3).
func TestMCPClientRefusesForeignMetadata(t *testing.T) {
	tokenAsked := false
	mux := http.NewServeMux()
	var ts *httptest.Server
	mux.HandleFunc("POST /mcp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="x", resource_metadata="`+ts.URL+`/meta"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	mux.HandleFunc("/meta", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"resource":"https://victim.example.com/mcp","authorization_servers":["`+ts.URL+`/"]}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { tokenAsked = true })
	ts = httptest.NewServer(mux)
	defer ts.Close()
	c := &Client{HTTP: http.DefaultClient, ClientID: agentID, ClientSecret: "s"}
	if _, err := c.CallTool(t.Context(), ts.URL+"/mcp", "add", nil); err == nil || !strings.Contains(err.Error(), "not") || tokenAsked {
		t.Fatalf("err %v, token asked %v", err, tokenAsked)
	}
}

// TestChallengeParam: quoted values with escapes, tokens, other params.
func TestChallengeParam(t *testing.T) {
	for _, tc := range []struct{ h, want string }{
		{`Bearer realm="a", resource_metadata="https://x/y"`, "https://x/y"},
		{`Bearer resource_metadata="a\"b", error="invalid_token"`, `a"b`},
		{`Bearer realm="a,resource_metadata=evil", error=invalid_token`, ""},
		{`Basic resource_metadata="x"`, ""},
		{`Bearer realm="unterminated`, ""},
	} {
		if got := challengeParam(tc.h, "resource_metadata"); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.h, got, tc.want)
		}
	}
}
