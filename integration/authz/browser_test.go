package authz_test

import (
	"context"
	"net/url"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/scopekit/scopekit/storage"
)

// TestImplicitFlowInBrowser runs the opt-in implicit flow in headless
// Chromium: the tokens arrive in the fragment of the client's page, where
// only the browser sees them, and the ID token verifies with go-oidc.
func TestImplicitFlowInBrowser(t *testing.T) {
	f := newOIDCFixture(t, true)
	ctx := context.Background()
	cb := f.ts.URL + "/spa/callback"
	_, err := f.srv.CreateClient(ctx, &storage.Client{ID: "spa-browser", Name: "SPA", Public: true, FirstParty: true,
		RedirectURIs: []string{cb}, ResponseTypes: []string{"id_token token"}})
	must(t, err)

	bctx := chromium(t)

	authURL := f.ts.URL + "/authorize?client_id=spa-browser&response_type=id_token%20token&scope=openid%20email" +
		"&nonce=browser-nonce&state=xyz&redirect_uri=" + url.QueryEscape(cb)
	err = chromedp.Do(bctx,
		chromedp.Navigate(f.ts.URL+"/login?user=alice&return_to="+url.QueryEscape(authURL)),
		chromedp.WaitVisible(chromedp.ID("out")),
	)
	if err != nil {
		t.Fatal(err)
	}
	frag, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("out")))
	if err != nil {
		t.Fatal(err)
	}
	v, err := url.ParseQuery(frag)
	if err != nil || v.Get("state") != "xyz" || v.Get("access_token") == "" {
		t.Fatalf("fragment %q: %v", frag, err)
	}
	provider, err := oidc.NewProvider(ctx, f.srv.Issuer())
	must(t, err)
	idt, err := provider.Verifier(&oidc.Config{ClientID: "spa-browser"}).Verify(ctx, v.Get("id_token"))
	if err != nil || idt.Nonce != "browser-nonce" || idt.Subject != "alice" {
		t.Fatalf("%v %+v", err, idt)
	}
}

// chromium starts a headless Chromium for the test, stopped when it ends;
// the returned context drives it, for at most a minute.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run the README's test command (bash scripts/test.sh), which installs it")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	bctx, cancel = context.WithTimeout(bctx, 60*time.Second)
	t.Cleanup(cancel)
	return bctx
}
