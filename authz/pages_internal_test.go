package authz

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCataloguesComplete: every built-in language has every message id
// of English, with the same placeholders, so no page shows a missing text.
func TestCataloguesComplete(t *testing.T) {
	en := builtinMessages["en"]
	for lang, m := range builtinMessages {
		for id, text := range en {
			got, ok := m[id]
			if !ok || got == "" {
				t.Errorf("%s: message %q missing", lang, id)
			}
			for _, ph := range []string{"{app}", "{domain}", "{user}", "{api}"} {
				if strings.Contains(text, ph) != strings.Contains(got, ph) {
					t.Errorf("%s: message %q: placeholder %s differs from English", lang, id, ph)
				}
			}
		}
		if len(m) != len(en) {
			t.Errorf("%s has %d messages, English %d", lang, len(m), len(en))
		}
	}
	for _, id := range consentTexts {
		if en["consent."+id] == "" {
			t.Errorf("consent page text %q has no message", id)
		}
	}
}

// TestPageLanguage: Accept-Language picks the best-weighted catalogue, by
// tag then primary subtag; a host catalogue adds a language and overrides
// single messages; the rest falls back to English.
func TestPageLanguage(t *testing.T) {
	s := &Server{cfg: Config{PageMessages: map[string]Messages{
		"de": {"consent.allow": "Erlauben"},
		"fr": {"consent.deny": "Non merci"},
	}}}
	for _, tc := range []struct{ header, want string }{
		{"", "en"},
		{"fr-CA,fr;q=0.9,en;q=0.8", "fr"},
		{"es, de;q=0.5", "de"},
		{"en;q=0.4, fr;q=0.6", "fr"},
		{"fr;q=0, de;q=0.1", "de"},
		{"fr;q=abc, zz", "en"},
		{"*", "en"},
		{"DE-at", "de"},
		{strings.Repeat("xx,", 30) + "fr", "en"}, // beyond the entries considered
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", tc.header)
		if got, _ := s.pageLanguage(r); got != tc.want {
			t.Errorf("Accept-Language %q: %q, want %q", tc.header, got, tc.want)
		}
	}
	de := s.catalogue("de")
	if de["consent.allow"] != "Erlauben" || de["consent.deny"] != "Deny" {
		t.Fatalf("host catalogue: allow %q deny %q", de["consent.allow"], de["consent.deny"])
	}
	fr := s.catalogue("fr")
	if fr["consent.deny"] != "Non merci" || fr["consent.allow"] != "Autoriser" {
		t.Fatalf("override of a built-in language: %q %q", fr["consent.deny"], fr["consent.allow"])
	}
	if DefaultMessages()["fr"]["consent.allow"] = "x"; builtinMessages["fr"]["consent.allow"] != "Autoriser" {
		t.Fatal("DefaultMessages shares the built-in catalogue")
	}
}

// TestInitiateLoginURIChecked: only an absolute https URL is registered.
func TestInitiateLoginURIChecked(t *testing.T) {
	for uri, ok := range map[string]bool{
		"https://app.example.com/login": true, "http://app.example.com/login": false, "/login": false,
		"javascript:alert(1)": false, "https://u:p@app.example.com/": false, "https://app.example.com/#x": false,
		"https://app.example.com/" + strings.Repeat("a", 3000): false,
	} {
		if err := checkInitiateLoginURI(uri); (err == nil) != ok {
			t.Errorf("%q: err = %v", uri, err)
		}
	}
}
