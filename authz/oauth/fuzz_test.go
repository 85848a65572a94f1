package oauth

import (
	"errors"
	"io"
	"net/http"
	"net/url"
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

func FuzzParseScopeBounded(f *testing.F) {
	f.Add("a b c", 2, 1)
	f.Add("aa a", 5, 1)
	f.Fuzz(func(t *testing.T, s string, maxTokens, maxLen int) {
		maxTokens, maxLen = 1+abs(maxTokens)%20, 1+abs(maxLen)%20
		scopes, err := ParseScopeBounded(s, maxTokens, maxLen)
		if err != nil {
			if !errors.Is(err, ErrInvalidScope) {
				t.Fatalf("ParseScopeBounded(%q) failed with %v", s, err)
			}
			return
		}
		if len(scopes) > maxTokens {
			t.Fatalf("%d scopes, bound %d", len(scopes), maxTokens)
		}
		for _, sc := range scopes {
			if len(sc) > maxLen || !ValidScopeToken(sc) {
				t.Fatalf("ParseScopeBounded(%q) = %q", s, scopes)
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

// FuzzPKCE: only a valid verifier matches, only its own S256 challenge, and
// only a well-formed challenge can be matched at all.
func FuzzPKCE(f *testing.F) {
	f.Add("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	f.Add(strings.Repeat("a", 42), "")
	f.Fuzz(func(t *testing.T, verifier, challenge string) {
		if VerifyPKCE(challenge, verifier) {
			if !ValidCodeVerifier(verifier) || !ValidS256Challenge(challenge) || challenge != S256Challenge(verifier) {
				t.Fatalf("VerifyPKCE(%q, %q) matched", challenge, verifier)
			}
		}
		if ValidCodeVerifier(verifier) {
			c := S256Challenge(verifier)
			if !ValidS256Challenge(c) || !VerifyPKCE(c, verifier) {
				t.Fatalf("the S256 challenge of %q does not verify", verifier)
			}
		}
		if ValidS256Challenge(challenge) && len(challenge) != 43 {
			t.Fatalf("ValidS256Challenge(%q)", challenge)
		}
	})
}

// FuzzBearer: a token comes from a "Bearer" header only, never holds the
// surrounding space, and a second copy in the query or a form body is
// refused (RFC 6750 §2).
func FuzzBearer(f *testing.F) {
	f.Add("Bearer abc", "", "")
	f.Add("bearer  abc ", "access_token=x", "")
	f.Add("Bearer abc", "", "a=1&access%5Ftoken=x")
	f.Add("Basic abc", "", "access_token=")
	f.Fuzz(func(t *testing.T, header, query, body string) {
		r, err := http.NewRequest(http.MethodPost, "https://api.example.com/", strings.NewReader(body))
		if err != nil {
			return
		}
		r.URL.RawQuery = query
		r.Header.Set("Authorization", header)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		raw, ok := BearerToken(r)
		if ok && (raw == "" || raw != strings.TrimSpace(raw) || !strings.EqualFold(header[:7], "Bearer ")) {
			t.Fatalf("BearerToken(%q) = %q", header, raw)
		}
		tok, ok2, err := RequestBearer(r, 1<<10)
		if err != nil {
			if !ok || !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("RequestBearer failed with %v for header %q", err, header)
			}
			return
		}
		if ok2 != ok || tok != raw {
			t.Fatalf("RequestBearer = %q %v, BearerToken = %q %v", tok, ok2, raw, ok)
		}
		if ok {
			// The handler still reads the whole body.
			rest, _ := io.ReadAll(r.Body)
			if string(rest) != body {
				t.Fatalf("body %q became %q", body, rest)
			}
			if q, _ := url.ParseQuery(query); q.Get("access_token") != "" {
				t.Fatalf("a token in the query too was accepted: %q", query)
			}
		}
	})
}
