package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBankInBrowser runs the bank story in headless Chromium: the user
// signs in on the login page, unticks transfer:funds on the consent page and
// allows; the app, on another origin than the issuer (as a third-party app
// is), ends with a token for read:balance only. The consent answer is a
// cross-origin redirect, which the page's CSP form-action must allow. The README's test
// command installs Debian's chromium; a missing browser fails the test.
func TestBankInBrowser(t *testing.T) {
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run the README's test command (bash scripts/test.sh), which installs it")
	}
	_, app, scope := startBank(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	err = chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/app"),
		chromedp.WaitVisible(chromedp.ID("login-jane")),
		chromedp.Click(chromedp.ID("login-jane")),
		chromedp.WaitVisible(chromedp.CSS(`input[value="transfer:funds"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[value="transfer:funds"]`)),
		chromedp.Click(chromedp.CSS(`button[value="allow"]`)),
		chromedp.WaitVisible(chromedp.ID("scope")),
	)
	if err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("scope")))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc, app.URL+"/app/callback") {
		t.Fatalf("browser ended at %s, not the app's callback on %s", loc, app.URL)
	}
	if shown != "read:balance" || scope() != "read:balance" {
		t.Fatalf("page shows %q, token scope %q; want read:balance (transfer:funds was unticked)", shown, scope())
	}
	if title != "Authorize PayFast (third-party)" {
		t.Fatalf("consent page title %q", title)
	}
}
