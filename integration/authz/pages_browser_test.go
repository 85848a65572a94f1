package authz_test

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// pageFacts are what the browser reports of a rendered page.
type pageFacts struct {
	Lang        string   `json:"lang"`
	Primary     string   `json:"primary"`
	Secondary   string   `json:"secondary"`
	Fieldset    bool     `json:"fieldset"`
	Checkboxes  int      `json:"checkboxes"`
	Links       []string `json:"links"`
	Details     string   `json:"details"`
	Overflows   bool     `json:"overflows"`
	PrimaryLeft float64  `json:"primaryLeft"`
	DenyLeft    float64  `json:"denyLeft"`
}

const factsJS = `(() => {
  const q = s => document.querySelector(s);
  const btn = q('button.primary'), deny = q('button[value=deny]');
  return {
    lang: document.documentElement.lang,
    primary: btn ? btn.textContent : (q('a.button.primary') || {}).textContent || '',
    secondary: deny ? deny.textContent : '',
    fieldset: !!q('fieldset legend'),
    checkboxes: document.querySelectorAll('fieldset input[type=checkbox]').length,
    links: [...document.querySelectorAll('a')].map(a => a.id + ' ' + a.getAttribute('href')),
    details: (q('#details') || {}).textContent || '',
    overflows: document.documentElement.scrollWidth > window.innerWidth,
    primaryLeft: btn ? btn.getBoundingClientRect().left : 0,
    denyLeft: deny ? deny.getBoundingClientRect().left : 0,
  };
})()`

// TestPagesInBrowser renders the consent page and the error page of an
// expired request in headless Chromium at desktop (1280x800) and mobile
// (390x844) widths: the buttons, the fieldset, the links and the lang
// attribute are there and nothing overflows the viewport. With
// SCOPEKIT_SCREENSHOTS set, it saves each as a PNG in that directory.
func TestPagesInBrowser(t *testing.T) {
	f := newUserFixture(t, withSwitchAccount)
	setStartURL(t, f, bankStart)
	shots := os.Getenv("SCOPEKIT_SCREENSHOTS")
	if shots != "" {
		must(t, os.MkdirAll(shots, 0o755))
	}
	bctx := chromium(t)
	consent := f.ts.URL + "/login?user=alice&return_to=" + url.QueryEscape(bankConsentURL(f))
	expired := f.ts.URL + "/authorize/resume?id=" + strings.Repeat("x", 20) + "&client_id=bank-app"
	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 800}, {"mobile", 390, 844}} {
		for _, page := range []struct{ name, url string }{{"consent", consent}, {"error", expired}} {
			err := chromedp.Do(bctx,
				chromedp.EmulateViewport(size.w, size.h),
				chromedp.Navigate(page.url),
				chromedp.WaitVisible(chromedp.ID("page")),
			)
			if err != nil {
				t.Fatalf("%s %s: %v", page.name, size.name, err)
			}
			facts, err := chromedp.Run(bctx, chromedp.Evaluate[pageFacts](factsJS))
			if err != nil {
				t.Fatalf("%s %s: %v", page.name, size.name, err)
			}
			png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatalf("%s %s: screenshot: %v", page.name, size.name, err)
			}
			if facts.Lang != "en" || facts.Overflows {
				t.Errorf("%s %s: lang %q, overflows %v", page.name, size.name, facts.Lang, facts.Overflows)
			}
			switch page.name {
			case "consent":
				if facts.Primary != "Allow" || facts.Secondary != "Deny" || !facts.Fieldset || facts.Checkboxes != 2 ||
					len(facts.Links) != 1 || !strings.HasPrefix(facts.Links[0], "not-you /logout?return_to=") {
					t.Errorf("consent %s: %+v", size.name, facts)
				}
				// Side by side on a desktop, Allow on the right; stacked on a phone.
				if side := facts.PrimaryLeft != facts.DenyLeft; side != (size.name == "desktop") {
					t.Errorf("consent %s: Allow at x=%v, Deny at x=%v", size.name, facts.PrimaryLeft, facts.DenyLeft)
				}
			case "error":
				if facts.Primary != "Start again at PayFast" || len(facts.Links) != 1 || facts.Links[0] != "start-again "+bankStart ||
					!strings.Contains(facts.Details, "invalid_request") {
					t.Errorf("error %s: %+v", size.name, facts)
				}
			}
			if !bytes.HasPrefix(png, []byte("\x89PNG")) {
				t.Fatalf("%s %s: not a PNG screenshot", page.name, size.name)
			}
			if shots != "" {
				path := filepath.Join(shots, page.name+"-"+size.name+".png")
				must(t, os.WriteFile(path, png, 0o644))
				t.Logf("screenshot: %s", path)
			}
		}
	}
}
