package demo

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestSafeReturnPath(t *testing.T) {
	for _, tc := range []struct {
		p  string
		ok bool
	}{
		{"/authorize/resume?id=abc", true},
		{"/", true},
		{"/a/b?x=https://evil.com", true},
		{"", false},
		{"//evil.com", false},
		{"/\\evil.com", false},
		{"/\\/evil.com", false},
		{"\\\\evil.com", false},
		{"/\t/evil.com", false},
		{"/\n/evil.com", false},
		{"/a\\b", false},
		{"https://evil.com/", false},
		{"http:/evil.com", false},
		{"javascript:alert(1)", false},
		{"evil.com", false},
		{"./x", false},
	} {
		if got := SafeReturnPath(tc.p); got != tc.ok {
			t.Errorf("SafeReturnPath(%q) = %v, want %v", tc.p, got, tc.ok)
		}
	}
}

var fieldRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// TestLoginRedirectAndCSRF drives the login page: an unsafe return_to is
// replaced by "/", a POST without the form's token is refused, and the
// issuer's absolute return URL becomes a local path.
func TestLoginRedirectAndCSRF(t *testing.T) {
	l := NewLogin("jane")
	ts := httptest.NewServer(l)
	defer ts.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := func(returnTo string) url.Values {
		resp, err := c.Get(ts.URL + "/login?return_to=" + url.QueryEscape(returnTo))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b [4096]byte
		n, _ := resp.Body.Read(b[:])
		v := url.Values{"user": {"jane"}}
		for _, m := range fieldRE.FindAllStringSubmatch(string(b[:n]), -1) {
			v.Set(m[1], m[2])
		}
		return v
	}
	post := func(v url.Values) *http.Response {
		resp, err := c.PostForm(ts.URL+"/login", v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, bad := range []string{"/\\evil.com", "//evil.com", "https://evil.com/x", "/\t/evil.com"} {
		v := form(bad)
		if v.Get("return_to") != "/" {
			t.Errorf("login page kept return_to %q as %q", bad, v.Get("return_to"))
		}
		v.Set("return_to", bad) // posted directly, not through the page
		if resp := post(v); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/" {
			t.Errorf("return_to %q: %d to %q", bad, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	v := form("/authorize/resume?id=abc")
	if resp := post(v); resp.Header.Get("Location") != "/authorize/resume?id=abc" {
		t.Errorf("safe return path not followed: %q", resp.Header.Get("Location"))
	}
	for name, tamper := range map[string]func(url.Values){
		"missing": func(v url.Values) { v.Del("csrf") },
		"forged":  func(v url.Values) { v.Set("csrf", strings.Repeat("A", len(v.Get("csrf")))) },
	} {
		v := form("/")
		tamper(v)
		if resp := post(v); resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
			t.Errorf("%s CSRF token: %d, cookies %v", name, resp.StatusCode, resp.Cookies())
		}
	}
	rec := httptest.NewRecorder()
	l.Challenge(rec, httptest.NewRequest("GET", "/authorize", nil), "http://issuer.example/tenant/authorize/resume?id=a%2Bb")
	if got := rec.Header().Get("Location"); got != "/login?return_to="+url.QueryEscape("/tenant/authorize/resume?id=a%2Bb") {
		t.Errorf("Challenge redirected to %q", got)
	}
}
