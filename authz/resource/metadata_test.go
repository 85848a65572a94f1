package resource_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/token"
)

// TestMetadataLocations: the metadata URL puts the well-known segment
// between the host and the resource's path (RFC 9728 §3.1), and the handler
// answers there and at the bare path only.
func TestMetadataLocations(t *testing.T) {
	for _, tc := range []struct{ resource, url string }{
		{"https://api.example.com", "https://api.example.com/.well-known/oauth-protected-resource"},
		{"https://api.example.com/", "https://api.example.com/.well-known/oauth-protected-resource"},
		{"https://api.example.com/mcp/", "https://api.example.com/.well-known/oauth-protected-resource/mcp"},
		{"http://127.0.0.1:8080/v1/mcp", "http://127.0.0.1:8080/.well-known/oauth-protected-resource/v1/mcp"},
	} {
		h, err := resource.NewMetadataHandler(resource.Metadata{Resource: tc.resource, AuthorizationServers: []string{"https://as.example.com/"}})
		if err != nil {
			t.Fatal(err)
		}
		if h.URL() != tc.url {
			t.Errorf("%s: URL %s, want %s", tc.resource, h.URL(), tc.url)
		}
		path := strings.TrimPrefix(tc.url, tc.url[:strings.Index(tc.url, "/.well-known")])
		for _, p := range []string{path, resource.WellKnownMetadataPath} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
			var doc map[string]any
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &doc) != nil || doc["resource"] != tc.resource {
				t.Fatalf("%s at %s: %d %s", tc.resource, p, rec.Code, rec.Body)
			}
			if m := doc["bearer_methods_supported"].([]any); len(m) != 1 || m[0] != "header" || doc["dpop_bound_access_tokens_required"] != nil {
				t.Fatalf("doc %v", doc)
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, resource.WellKnownMetadataPath+"/other", nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("another path answered %d", rec.Code)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("POST answered %d", rec.Code)
		}
	}
}

// TestMetadataRefusesBadResource: a resource identifier with a query,
// fragment, userinfo, quote or non-http scheme is refused (RFC 9728 §1.2),
// so no challenge can carry a broken resource_metadata.
func TestMetadataRefusesBadResource(t *testing.T) {
	for _, r := range []string{"", "api", "urn:example:api", "https://api.example.com/?x=1", "https://api.example.com/#f",
		"https://u:p@api.example.com/", `https://api.example.com/a"b`, "ftp://api.example.com/"} {
		if _, err := resource.NewMetadataHandler(resource.Metadata{Resource: r}); err == nil {
			t.Errorf("resource %q accepted", r)
		}
	}
	if _, err := resource.NewMetadataHandler(resource.Metadata{Resource: "https://api.example.com", AuthorizationServers: []string{"as"}}); err == nil {
		t.Error("a relative authorization server accepted")
	}
}

// TestChallengeNamesMetadata: with WithMetadata every challenge carries
// resource_metadata (RFC 9728 §5.1); the original authorizer's do not.
func TestChallengeNamesMetadata(t *testing.T) {
	h, err := resource.NewMetadataHandler(resource.Metadata{Resource: "https://api.example.com/mcp"})
	if err != nil {
		t.Fatal(err)
	}
	base := resource.New(resource.Config{Verifier: token.Verifier{Audience: "https://api.example.com/mcp"}, Realm: "api"})
	a := base.WithMetadata(h)
	want := `resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp"`
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, bearer := range []string{"", "Bearer not-a-jwt"} {
		req := httptest.NewRequest(http.MethodGet, "/mcp", nil)
		if bearer != "" {
			req.Header.Set("Authorization", bearer)
		}
		rec := httptest.NewRecorder()
		a.RequireScopes("x")(ok).ServeHTTP(rec, req)
		if (bearer == "" && rec.Code != http.StatusUnauthorized) || !strings.Contains(rec.Header().Get("WWW-Authenticate"), want) {
			t.Errorf("%q: %d %q", bearer, rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
		rec = httptest.NewRecorder()
		base.RequireScopes("x")(ok).ServeHTTP(rec, req)
		if strings.Contains(rec.Header().Get("WWW-Authenticate"), "resource_metadata") {
			t.Errorf("the original authorizer changed: %q", rec.Header().Get("WWW-Authenticate"))
		}
	}
}
