package authz_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// requestCountingStore counts the pending authorization requests written to it.
type requestCountingStore struct {
	storage.Store
	created atomic.Int32
}

func (c *requestCountingStore) CreateAuthRequest(ctx context.Context, r *storage.AuthRequest) error {
	c.created.Add(1)
	return c.Store.CreateAuthRequest(ctx, r)
}

// newLimitFixture is the user fixture over a store that counts pending
// requests.
func newLimitFixture(t *testing.T, mutate ...func(*authz.Config)) (*userFixture, *requestCountingStore) {
	t.Helper()
	var cs *requestCountingStore
	wrap := func(c *authz.Config) {
		cs = &requestCountingStore{Store: c.Store}
		c.Store = cs
	}
	f := newUserFixture(t, append([]func(*authz.Config){wrap}, mutate...)...)
	return f, cs
}

// bankAuthorize is an /authorize URL of the confidential bank client with
// extra (already encoded) parameters.
func bankAuthorize(f *userFixture, extra string) string {
	return f.ts.URL + "/authorize?response_type=code&client_id=bank-app&scope=openid&redirect_uri=" + url.QueryEscape(bankCB) + extra
}

// wantStored checks how many pending requests reached the store.
func wantStored(t *testing.T, cs *requestCountingStore, n int32) {
	t.Helper()
	if got := cs.created.Load(); got != n {
		t.Fatalf("%d authorization requests stored, want %d", got, n)
	}
}

// TestAuthorizeParameterBounds sends each oversized parameter to /authorize:
// once the client and redirect URI are known the answer is an
// invalid_request redirect that never echoes the oversized value, before
// them an error page; nothing is stored either way.
func TestAuthorizeParameterBounds(t *testing.T) {
	long := func(n int) string { return strings.Repeat("s", n) }
	redirects := []struct{ name, extra string }{
		{"state", "&state=" + long(1025)},
		{"nonce", "&state=x&nonce=" + long(1025)},
		{"other parameter", "&state=x&login_hint=" + long(2049)},
		{"audience", "&state=x&audience=" + long(2049)},
		{"parameter name", "&state=x&" + long(2049) + "=1"},
	}
	for _, tc := range redirects {
		t.Run(tc.name, func(t *testing.T) {
			f, cs := newLimitFixture(t)
			b := f.browser(t)
			b.login(f, "alice")
			cb := b.get(bankAuthorize(f, tc.extra))
			if cb == nil || cb.Query().Get("error") != "invalid_request" {
				t.Fatalf("want an invalid_request redirect, got %v %d %.200q", cb, b.last.StatusCode, b.body)
			}
			if len(cb.String()) > 1024 {
				t.Fatalf("the redirect echoes the oversized value: %d bytes", len(cb.String()))
			}
			if tc.name != "state" && cb.Query().Get("state") != "x" {
				t.Fatalf("state not echoed: %v", cb)
			}
			wantStored(t, cs, 0)
		})
	}
	pages := []struct{ name, url string }{
		{"client_id", "/authorize?response_type=code&state=x&client_id=" + long(2049)},
		{"redirect_uri", "/authorize?response_type=code&state=x&client_id=bank-app&redirect_uri=" + url.QueryEscape(bankCB+"?"+long(2049))},
		{"parameter count", "/authorize?response_type=code&client_id=bank-app&p1=1" + strings.Repeat("&p=1", 0) + manyParams(50)},
	}
	for _, tc := range pages {
		t.Run(tc.name, func(t *testing.T) {
			f, cs := newLimitFixture(t)
			b := f.browser(t)
			if cb := b.get(f.ts.URL + tc.url); cb != nil || b.last.StatusCode != 400 || !strings.Contains(b.body, "invalid_request") {
				t.Fatalf("want the invalid_request page, got %v %d %.200q", cb, b.last.StatusCode, b.body)
			}
			wantStored(t, cs, 0)
		})
	}
	t.Run("at the bounds", func(t *testing.T) {
		f, cs := newLimitFixture(t)
		b := f.browser(t)
		cb := b.get(bankAuthorize(f, "&state="+long(1024)+"&nonce="+long(1024)+"&login_hint="+long(2048)))
		if cb != nil || !strings.Contains(b.body, "login page") {
			t.Fatalf("a request at the bounds is refused: %v %.200q", cb, b.body)
		}
		wantStored(t, cs, 1)
	})
	t.Run("configured bounds", func(t *testing.T) {
		f, cs := newLimitFixture(t, func(c *authz.Config) { c.MaxStateBytes = 8 })
		b := f.browser(t)
		if cb := b.get(bankAuthorize(f, "&state=123456789")); cb == nil || cb.Query().Get("error") != "invalid_request" || cb.Query().Has("state") {
			t.Fatalf("%v", cb)
		}
		wantStored(t, cs, 0)
	})
	t.Run("stored size", func(t *testing.T) {
		f, cs := newLimitFixture(t, func(c *authz.Config) { c.MaxAuthRequestBytes = 300 })
		b := f.browser(t)
		if cb := b.get(bankAuthorize(f, "&state="+long(300))); cb == nil || cb.Query().Get("error") != "invalid_request" {
			t.Fatalf("%v %d %.200q", cb, b.last.StatusCode, b.body)
		}
		wantStored(t, cs, 0)
		if cb := b.get(bankAuthorize(f, "&state=x")); cb != nil || !strings.Contains(b.body, "login page") {
			t.Fatalf("a small request is refused: %v %.200q", cb, b.body)
		}
		wantStored(t, cs, 1)
	})
}

// manyParams returns n distinct extra parameters.
func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("&x")
		b.WriteString(strings.Repeat("y", i))
		b.WriteString("=1")
	}
	return b.String()
}

// TestAuthorizeScopeBounds sends 80,000 scope tokens to /authorize and
// 12,000 to the token endpoint: both answer invalid_scope, nothing is stored
// and no token is issued.
func TestAuthorizeScopeBounds(t *testing.T) {
	f, cs := newLimitFixture(t)
	b := f.browser(t)
	scope := strings.TrimSpace(strings.Repeat("s ", 80000))
	u := f.ts.URL + "/authorize?response_type=code&client_id=bank-app&state=x&redirect_uri=" + url.QueryEscape(bankCB) + "&scope=" + url.QueryEscape(scope)
	if cb := b.get(u); cb == nil || cb.Query().Get("error") != "invalid_scope" {
		t.Fatalf("%v %d %.200q", cb, b.last.StatusCode, b.body)
	}
	wantStored(t, cs, 0)

	// At the token endpoint: 12,000 distinct scopes fit in the body limit.
	cc := newFixture(t)
	tokens := make([]string, 12000)
	for i := range tokens {
		tokens[i] = strconv.FormatInt(int64(i), 36)
	}
	tokens[0] = "read:users"
	form := url.Values{"grant_type": {"client_credentials"}, "audience": {usersAPI}, "scope": {strings.Join(tokens, " ")}}
	resp, body := postForm(t, cc.http.URL+"/oauth/token", form, basic("reporter", cc.secret))
	if resp.StatusCode != 400 || body["error"] != "invalid_scope" || body["access_token"] != nil {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
}

// TestS256ChallengeLength refuses at /authorize every S256 challenge that
// is not 43 base64url characters: no verifier could ever match it.
func TestS256ChallengeLength(t *testing.T) {
	sum := sha256.Sum256([]byte(strings.Repeat("v", 43)))
	valid := base64.RawURLEncoding.EncodeToString(sum[:])
	for _, tc := range []struct {
		name, challenge string
		ok              bool
	}{
		{"43", valid, true},
		{"42", valid[:42], false},
		{"44", valid + "A", false},
		{"128", strings.Repeat("A", 128), false},
		{"43 with a verifier character", valid[:42] + "~", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, cs := newLimitFixture(t)
			b := f.browser(t)
			u := f.ts.URL + "/authorize?response_type=code&client_id=events-app&state=x&redirect_uri=" + url.QueryEscape(eventsCB) +
				"&code_challenge_method=S256&code_challenge=" + url.QueryEscape(tc.challenge)
			cb := b.get(u)
			if tc.ok {
				if cb != nil || !strings.Contains(b.body, "login page") {
					t.Fatalf("valid challenge refused: %v", cb)
				}
				wantStored(t, cs, 1)
				return
			}
			if cb == nil || cb.Query().Get("error") != "invalid_request" {
				t.Fatalf("%v %d %.200q", cb, b.last.StatusCode, b.body)
			}
			wantStored(t, cs, 0)
		})
	}
}

// TestParseScopeBounds checks the token count and length bounds; repeats
// count, since they cost the parse as much as new tokens.
func TestParseScopeBounds(t *testing.T) {
	tok := func(i int) string { return "s" + strings.Repeat("x", i%50) + string(rune('a'+i%26)) }
	n := func(k int) string {
		out := make([]string, k)
		for i := range out {
			out[i] = tok(i)
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		name, scope string
		ok          bool
	}{
		{"80000 tokens", strings.TrimSpace(strings.Repeat("a ", 80000)), false},
		{"at the count bound", n(oauth.DefaultMaxScopes), true},
		{"one over the count bound", n(oauth.DefaultMaxScopes + 1), false},
		{"repeats count", strings.TrimSpace(strings.Repeat("a ", oauth.DefaultMaxScopes+1)), false},
		{"at the length bound", strings.Repeat("x", oauth.DefaultMaxScopeLength), true},
		{"one over the length bound", strings.Repeat("x", oauth.DefaultMaxScopeLength+1), false},
		{"spaces", strings.Repeat(" ", 100000), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oauth.ParseScope(tc.scope)
			var e *oauth.Error
			switch {
			case tc.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !tc.ok && (!errors.As(err, &e) || e.Code != "invalid_scope"):
				t.Fatalf("want invalid_scope, got %v", err)
			}
		})
	}
	got, err := oauth.ParseScope(" a b  a c b ")
	if err != nil || strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("%q %v", got, err)
	}
}

// BenchmarkParseScope parses the largest scope the default bounds allow, of
// distinct tokens: the cost is linear in the input (a set, not a search
// through the tokens kept).
func BenchmarkParseScope(b *testing.B) {
	out := make([]string, oauth.DefaultMaxScopes)
	for i := range out {
		out[i] = strings.Repeat("x", oauth.DefaultMaxScopeLength-4) + string(rune('a'+i/26%26)) + string(rune('a'+i%26)) + "zz"
	}
	scope := strings.Join(out, " ")
	b.SetBytes(int64(len(scope)))
	for b.Loop() {
		if _, err := oauth.ParseScope(scope); err != nil {
			b.Fatal(err)
		}
	}
}
