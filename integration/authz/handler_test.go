package authz_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/resource"
)

// TestIssuerWithPath: an issuer with a path serves its endpoints under the
// path and its RFC 8414 metadata at both well-known locations: §3.1 inserts
// the well-known segment between host and path; appending is accepted too.
func TestIssuerWithPath(t *testing.T) {
	f := newFixture(t, func(c *authz.Config) { c.Issuer = strings.TrimSuffix(c.Issuer, "/") + "/tenants/acme" })
	iss := f.srv.Issuer()
	u, err := url.Parse(iss)
	must(t, err)
	origin := u.Scheme + "://" + u.Host
	for name, loc := range map[string]string{
		"RFC 8414 inserted": origin + "/.well-known/oauth-authorization-server/tenants/acme",
		"RFC 8414 appended": iss + "/.well-known/oauth-authorization-server",
	} {
		t.Run(name, func(t *testing.T) {
			var md map[string]any
			resp := getJSON(t, loc, &md)
			if resp.StatusCode != 200 || md["issuer"] != iss || md["token_endpoint"] != iss+"/oauth/token" ||
				md["jwks_uri"] != iss+"/.well-known/jwks.json" {
				t.Fatalf("%d %v", resp.StatusCode, md)
			}
		})
	}
	t.Run("no OpenID metadata without a sign-in flow", func(t *testing.T) {
		resp, err := http.Get(iss + "/.well-known/openid-configuration")
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d: a server without Login is not an OpenID provider", resp.StatusCode)
		}
	})
	t.Run("no metadata at the root", func(t *testing.T) {
		resp, err := http.Get(origin + "/.well-known/oauth-authorization-server")
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d: the root serves another issuer's metadata", resp.StatusCode)
		}
	})
	t.Run("token, then a remote authorizer through discovery", func(t *testing.T) {
		resp, body := postForm(t, f.srv.Metadata().TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "audience": {usersAPI}}, basic("reporter", f.secret))
		if resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
		ctx := context.Background()
		rs, err := resource.NewRemote(ctx, resource.RemoteConfig{Issuer: iss, Audience: usersAPI})
		must(t, err)
		if _, err := rs.Authorize(ctx, body["access_token"].(string), resource.Requirement{AllOf: []string{"read:users"}}); err != nil {
			t.Fatal(err)
		}
	})
}
