package authz_test

import (
	"context"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage/memory"
)

// TestReservedClaimNamespaceSpellings sets claims under other spellings of
// reserved hosts: each is refused, and only plain namespaces elsewhere are
// kept.
func TestReservedClaimNamespaceSpellings(t *testing.T) {
	refused := []string{
		"https://auth.example.com./role",        // fully-qualified form
		"https://tenant.auth.example.com./role", // subdomain, fully qualified
		"https://AUTH.Example.com/role",
		"https://auth.example.com:443/role",
		"https://auth.example.com:/role",
		"https://user@auth.example.com/role",
		"https://auth%2eexample.com/role",
		"https://\u0430uth.example.com/role", // Cyrillic a
		"https://auth.example.com/role?x=1",
		"https://auth.example.com/role#x",
		"https://auth.example.com..//role",
		"https://[::1]/role",
		"https://127.0.0.1./role", // the issuer's own host
		"https://XN--BCHER-KVA.example./role",
		"https:auth.example.com/role",
	}
	kept := []string{ns + "ok", "https://xn--bcher-kva.example.org/ok", "http://other.example.com"}
	f, secret := newRulesFixture(t, func(c *authz.Config) {
		c.ReservedClaimHosts = []string{"auth.example.com", "xn--bcher-kva.example."}
	}, rule("namespaces", func(_ context.Context, tx *authz.Transaction) error {
		for _, n := range append(append([]string(nil), refused...), kept...) {
			tx.SetAccessTokenClaim(n, "admin")
		}
		return nil
	}))
	_, body := postForm(t, f.ts.URL+"/oauth/token", ccForm(bankUserAPI, ""), basic("reporter", secret))
	c := decodePayload(t, body["access_token"].(string))
	for _, n := range refused {
		if c[n] != nil {
			t.Errorf("claim %q kept", n)
		}
	}
	for _, n := range kept {
		if c[n] != "admin" {
			t.Errorf("claim %q dropped", n)
		}
	}
}

// TestReservedClaimHostsMustBeASCII refuses a reserved host the namespace
// comparison could never match.
func TestReservedClaimHostsMustBeASCII(t *testing.T) {
	for _, h := range []string{"bücher.example", "auth.example.com:443", "a b"} {
		cfg := authz.Config{Issuer: "https://issuer.example/", Store: memory.New(), Grants: []authz.Grant{grant.ClientCredentials{}}, ReservedClaimHosts: []string{h}}
		if _, err := authz.New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "ReservedClaimHosts") {
			t.Errorf("%q: err = %v", h, err)
		}
	}
}
