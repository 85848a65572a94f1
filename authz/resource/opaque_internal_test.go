package resource

import (
	"errors"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/token"
)

func TestSplitOpaque(t *testing.T) {
	for _, tc := range []struct {
		raw, family string
		ok          bool
	}{
		{"skat_-.c2VjcmV0", "", true},
		{"skat_fam_1-x.c2VjcmV0", "fam_1-x", true},
		{"skat_.c2VjcmV0", "", false},
		{"skat_fam.", "", false},
		{"skat_fam", "", false},
		{"skat_fam.a.b", "", false},
		{"skat_fa m.abc", "", false},
		{"skat_fam.ab+c", "", false},
		{"fam.abc", "", false},
		{"eyJ.eyJ.sig", "", false},
		{"skat_f." + strings.Repeat("a", maxOpaqueBytes), "", false},
	} {
		family, ok := SplitOpaque(tc.raw)
		if ok != tc.ok || family != tc.family {
			t.Errorf("SplitOpaque(%q) = %q, %v; want %q, %v", tc.raw, family, ok, tc.family, tc.ok)
		}
	}
}

func TestIntrospectionClaims(t *testing.T) {
	const iss = "https://issuer.example/"
	c, err := introspectionClaims([]byte(`{"active":true,"iss":"https://issuer.example/","sub":"s","client_id":"c","aud":["https://api"],"scope":"a b","exp":2000000000,"iat":1000,"jti":"j","token_type":"Bearer"}`), iss)
	if err != nil || c.Subject != "s" || c.ClientID != "c" || len(c.Audience) != 1 || c.Scope != "a b" || c.ExpiresAt.Unix() != 2000000000 || c.JTI != "j" {
		t.Fatalf("%+v %v", c, err)
	}
	if _, present := c.Raw["active"]; present {
		t.Fatal("Raw keeps active")
	}
	if c, err := introspectionClaims([]byte(`{"active":true,"iss":"https://issuer.example/","aud":"https://api","exp":2000000000}`), iss); err != nil || len(c.Audience) != 1 {
		t.Fatalf("string aud: %+v %v", c, err)
	}
	for name, body := range map[string]string{
		"inactive":      `{"active":false}`,
		"other issuer":  `{"active":true,"iss":"https://evil.example/","exp":2000000000}`,
		"no exp":        `{"active":true,"iss":"https://issuer.example/"}`,
		"refresh token": `{"active":true,"iss":"https://issuer.example/","exp":2000000000,"token_type":"refresh_token"}`,
	} {
		if _, err := introspectionClaims([]byte(body), iss); !errors.Is(err, token.ErrInvalid) {
			t.Errorf("%s: %v, want inactive", name, err)
		}
	}
	for name, body := range map[string]string{
		"not JSON":      `active`,
		"active string": `{"active":"true","iss":"https://issuer.example/","exp":2000000000}`,
		"malformed aud": `{"active":true,"iss":"https://issuer.example/","exp":2000000000,"aud":[1]}`,
	} {
		if _, err := introspectionClaims([]byte(body), iss); err == nil || errors.Is(err, token.ErrInvalid) {
			t.Errorf("%s: %v, want a failure that is not inactive", name, err)
		}
	}
}
