package authz

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzMatchRedirectURI(f *testing.F) {
	registered := []string{"https://app.example.com/cb?x=1", "http://127.0.0.1/native/cb", "http://[::1]:8080/cb"}
	for _, s := range []string{"https://app.example.com/cb?x=1", "http://127.0.0.1:5000/native/cb", "http://127.0.0.1:5000/native/cb#x", "https://app.example.com/cb/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, got string) {
		m, ok := matchRedirectURI(registered, got)
		if !ok {
			return
		}
		if m != got {
			t.Fatalf("match returned %q for %q", m, got)
		}
		if !strings.HasPrefix(got, "https://app.example.com/cb?x=1") && !strings.HasPrefix(got, "http://127.0.0.1") && !strings.HasPrefix(got, "http://[::1]") {
			t.Fatalf("%q matched a registered URI", got)
		}
		if strings.HasPrefix(got, "https://") && got != registered[0] {
			t.Fatalf("non-loopback %q matched without being identical", got)
		}
	})
}

func FuzzPeekAudience(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.sig")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		if aud, ok := peekAudience(raw); ok && aud == "" {
			t.Fatal("empty audience reported ok")
		}
	})
}

func FuzzTokenResponseJSON(f *testing.F) {
	f.Add("at", "read write", "\"\\\x00é")
	f.Fuzz(func(t *testing.T, at, scope, id string) {
		r := &TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: 3600, Scope: scope, IDToken: id}
		var back TokenResponse
		if err := json.Unmarshal(r.AppendJSON(nil), &back); err != nil {
			t.Fatalf("invalid JSON for %q %q %q: %v", at, scope, id, err)
		}
		if utf8.ValidString(at) && back.AccessToken != at || utf8.ValidString(scope) && back.Scope != scope {
			t.Fatalf("round trip %+v", back)
		}
	})
}
