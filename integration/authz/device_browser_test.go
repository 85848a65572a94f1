package authz_test

import (
	"context"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDeviceFlowInBrowser runs the verification page in headless Chromium:
// the user types the code the device shows, signs in at the host, and
// approves on the consent page; the device's next poll gets the tokens.
func TestDeviceFlowInBrowser(t *testing.T) {
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run the README's test command (bash scripts/test.sh), which installs it")
	}
	f := newDeviceFixture(t, true)
	da := f.authorizeDevice(t, "openid view:events")

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	// The user opens the page, types the code in lower case and without
	// the dash, and continues; the host's login page signs bob in.
	typed := strings.ToLower(strings.ReplaceAll(da["user_code"].(string), "-", ""))
	err = chromedp.Do(bctx,
		chromedp.Navigate(f.ts.URL+"/device"),
		chromedp.WaitVisible(chromedp.ID("user_code")),
		chromedp.SendKeys(chromedp.ID("user_code"), typed),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitNotPresent(chromedp.ID("user_code")),
	)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(bctx, chromedp.Location())
	must(t, err)
	if !strings.Contains(loc, "/login?") {
		t.Fatalf("after the code, the browser is at %s, not the host's sign-in", loc)
	}
	u, _ := url.Parse(loc)
	q := u.Query()
	q.Set("user", "bob")
	u.RawQuery = q.Encode()
	err = chromedp.Do(bctx,
		chromedp.Navigate(u.String()),
		chromedp.WaitVisible(chromedp.CSS(`button[value="allow"]`)),
		chromedp.Click(chromedp.CSS(`button[value="allow"]`)),
		chromedp.WaitVisible(chromedp.ID("result")),
	)
	if err != nil {
		t.Fatal(err)
	}
	result, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("result")))
	must(t, err)
	if result != "Device connected" {
		t.Fatalf("result page %q", result)
	}
	f.clk.Advance(5 * time.Second)
	status, body := f.poll(t, "tv-app", "", da["device_code"].(string))
	if status != 200 {
		t.Fatalf("poll after approval in the browser: %d %v", status, body)
	}
	if c := decodePayload(t, body["access_token"].(string)); c["sub"] != "bob" {
		t.Fatalf("claims %v", c)
	}
}
