package authz_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/storage"
)

// TestCreateClientRedirectURIs: registration accepts https, loopback-IP http
// and, for public clients, reverse-domain private-use schemes (RFC 8252 §7),
// and refuses script schemes, other http hosts, userinfo, fragments,
// wildcards and bad ports (RFC 9700 §4.1).
func TestCreateClientRedirectURIs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i, tc := range []struct {
		uri    string
		public bool
		ok     bool
	}{
		{"https://a.example/cb", false, true},
		{"https://a.example:8443/cb?x=1", false, true},
		{"http://127.0.0.1/cb", false, true},
		{"http://127.0.0.1:8080/cb", true, true},
		{"http://[::1]:65535/cb", true, true},
		{"com.example.app:/cb", true, true},
		{"com.example.app://host/cb", true, true},
		{"com.example.app:/cb", false, false},
		{"javascript:alert(document.domain)//", true, false},
		{"JavaScript:alert(1)//", true, false},
		{"data:text/html,<script>alert(1)</script>", true, false},
		{"vbscript:msgbox(1)", true, false},
		{"file:///etc/passwd", true, false},
		{"myapp:/cb", true, false},
		{"com..app:/cb", true, false},
		{"com.example.app:cb", true, false},
		{"http://a.example/cb", false, false},
		{"http://localhost:8080/cb", true, false},
		{"http://127.0.0.2/cb", true, false},
		{"https://user:pw@a.example/cb", false, false},
		{"https://a.example/cb#", false, false},
		{"https://a.example/cb#x", false, false},
		{"https://*.a.example/cb", false, false},
		{"http://127.0.0.1:0/cb", true, false},
		{"http://127.0.0.1:99999/cb", true, false},
		{"http://127.0.0.1:053121/cb", true, false},
		{"http://127.0.0.1:/cb", true, false},
		{"https:///cb", false, false},
		{"https://a.example/c b", false, false},
		{"/relative", false, false},
		{"https://a.example/" + strings.Repeat("a", 2048), false, false},
	} {
		c := &storage.Client{ID: "c" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Public: tc.public, RedirectURIs: []string{tc.uri}}
		_, err := f.srv.CreateClient(ctx, c)
		if (err == nil) != tc.ok {
			t.Errorf("CreateClient(%q, public=%v): err = %v, want ok=%v", tc.uri, tc.public, err, tc.ok)
		}
	}
}

// TestAuthorizeNeverRedirectsToUnsafeURI: a javascript: redirect URI written
// to the store directly gets the error page at /authorize, never a redirect
// to it, whether it is named in the request or the client's only one.
func TestAuthorizeNeverRedirectsToUnsafeURI(t *testing.T) {
	f := newUserFixture(t)
	const evil = "javascript:alert(document.domain)//"
	must(t, f.store.Clients().Create(context.Background(), &storage.Client{ID: "evil", Public: true, AuthMethod: "none",
		RedirectURIs: []string{evil}, GrantTypes: []string{"authorization_code"}}))
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, q := range []url.Values{
		{"client_id": {"evil"}, "response_type": {"code"}, "prompt": {"none"}, "redirect_uri": {evil}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}},
		{"client_id": {"evil"}, "response_type": {"code"}, "prompt": {"none"}},
		{"client_id": {"evil"}, "response_type": {"token"}, "prompt": {"none"}},
	} {
		resp, err := c.Get(f.ts.URL + "/authorize?" + q.Encode())
		must(t, err)
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusBadRequest || loc != "" {
			t.Errorf("%v: status %d, Location %q; want the 400 error page", q, resp.StatusCode, loc)
		}
	}
}
