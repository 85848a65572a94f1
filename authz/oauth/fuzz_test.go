package oauth

import (
	"strings"
	"testing"
)

func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"", "openid profile", "read:users  read:users", "a\"b", "\x00", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		scopes, err := ParseScope(s)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, sc := range scopes {
			if sc == "" || !ValidScopeToken(sc) || seen[sc] || strings.Contains(sc, " ") {
				t.Fatalf("ParseScope(%q) = %q", s, scopes)
			}
			seen[sc] = true
			if !ScopeHas(FormatScope(scopes), sc) {
				t.Fatalf("ScopeHas lost %q", sc)
			}
		}
	})
}
