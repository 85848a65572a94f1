package authz_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
)

// deviceFixture is the user fixture with the device grant, a public TV
// client of the events API and a confidential one, on a clock the test
// moves (nil: the wall clock).
type deviceFixture struct {
	*userFixture
	clk       *lockedClock
	tvSecret  string
	tokenURL  string
	deviceURL string
}

// lockedClock is a clock safe for concurrent reads.
type lockedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lockedClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *lockedClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newDeviceFixture(t testing.TB, fake bool, mutate ...func(*authz.Config)) *deviceFixture {
	t.Helper()
	f := &deviceFixture{}
	if fake {
		f.clk = &lockedClock{t: time.Now().Truncate(time.Millisecond)}
	}
	f.userFixture = newUserFixture(t, append([]func(*authz.Config){func(c *authz.Config) {
		c.Grants = append(c.Grants, grant.DeviceCode{})
		if fake {
			c.Now = f.clk.Now
		} else {
			c.DevicePollInterval = time.Second
		}
	}}, mutate...)...)
	ctx := context.Background()
	_, err := f.srv.CreateClient(ctx, &storage.Client{ID: "tv-app", Name: "Living-room TV", Public: true,
		GrantTypes: []string{oauth.GrantDeviceCode, "refresh_token"}})
	must(t, err)
	f.tvSecret, err = f.srv.CreateClient(ctx, &storage.Client{ID: "tv-secret", Name: "Hotel TV",
		GrantTypes: []string{oauth.GrantDeviceCode}})
	must(t, err)
	f.tokenURL, f.deviceURL = f.ts.URL+"/oauth/token", f.ts.URL+"/oauth/device/code"
	return f
}

// authorizeDevice asks for a device code as the public TV client.
func (f *deviceFixture) authorizeDevice(t testing.TB, scope string) map[string]any {
	t.Helper()
	resp, body := postForm(t, f.deviceURL, url.Values{"client_id": {"tv-app"}, "scope": {scope}, "audience": {eventsAPI}}, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("device authorization: %d %v", resp.StatusCode, body)
	}
	return body
}

// poll polls the token endpoint once as client (public when secret is
// empty).
func (f *deviceFixture) poll(t testing.TB, client, secret, deviceCode string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {oauth.GrantDeviceCode}, "device_code": {deviceCode}}
	var auth http.Header
	if secret != "" {
		auth = basic(client, secret) // the confidential client's registered method
	} else {
		form.Set("client_id", client)
	}
	resp, body := postForm(t, f.tokenURL, form, auth)
	return resp.StatusCode, body
}

// expectError checks an OAuth error answer.
func expectError(t testing.TB, status int, body map[string]any, wantStatus int, code string) {
	t.Helper()
	if status != wantStatus || body["error"] != code {
		t.Fatalf("got %d %v, want %d %s", status, body, wantStatus, code)
	}
}

var entryCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// verify runs a browser through the verification page as user: it enters
// the code (from the prefilled page when userCode is empty), signs in and
// answers the consent page with decision and the scopes to keep (nil:
// every offered one). It returns the last page.
func (f *deviceFixture) verify(t testing.TB, b *browser, complete, userCode, user, decision string, keep []string) string {
	t.Helper()
	b.get(complete)
	m := entryCSRF.FindStringSubmatch(b.body)
	if m == nil {
		t.Fatalf("no entry form: %d %q", b.last.StatusCode, b.body)
	}
	form := url.Values{"csrf": {m[1]}, "user_code": {userCode}}
	if userCode == "" {
		v := regexp.MustCompile(`name="user_code" id="user_code" value="([^"]*)"`).FindStringSubmatch(b.body)
		form.Set("user_code", v[1])
	}
	b.post(f.ts.URL+"/device", form)
	if strings.Contains(b.body, "login page") {
		b.get(b.last.Request.URL.String() + "&user=" + user)
	}
	if !strings.Contains(b.body, "wants to access your account") {
		t.Fatalf("no consent page: %d %q", b.last.StatusCode, b.body)
	}
	cf := b.consentForm()
	if keep == nil {
		for _, s := range regexp.MustCompile(`name="scope" value="([^"]+)"`).FindAllStringSubmatch(b.body, -1) {
			keep = append(keep, s[1])
		}
	}
	cf["scope"] = keep
	cf.Set("decision", decision)
	b.post(f.ts.URL+"/device/consent", cf)
	return b.body
}

// servePage runs the handler directly for a request from remote.
func (f *deviceFixture) servePage(method, target, remote string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.RemoteAddr = remote
	for _, c := range cookies {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, req)
	return w
}
