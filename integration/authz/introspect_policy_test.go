package authz_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/scopekit/scopekit/storage"
)

// TestIntrospectionLimitedToOwnerAndResourceServers: another confidential
// client, even one with a client grant for the same API, learns nothing of
// a token; its own client and a resource server of its audience do.
func TestIntrospectionLimitedToOwnerAndResourceServers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rsSecret, err := f.srv.CreateClient(ctx, &storage.Client{ID: "users-rs", IntrospectAudiences: []string{usersAPI}})
	must(t, err)
	bankRSSecret, err := f.srv.CreateClient(ctx, &storage.Client{ID: "bank-rs", IntrospectAudiences: []string{bankAPI}})
	must(t, err)
	tok := f.issue(t, usersAPI).AccessToken
	endpoint := f.srv.Metadata().IntrospectionEndpoint
	for _, tc := range []struct {
		name   string
		auth   http.Header
		active bool
	}{
		{"own client", basic("reporter", f.secret), true},
		{"resource server of the audience", basic("users-rs", rsSecret), true},
		{"another client with a grant for the API", basic("other", f.secret2), false},
		{"resource server of another API", basic("bank-rs", bankRSSecret), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := postForm(t, endpoint, url.Values{"token": {tok}}, tc.auth)
			if resp.StatusCode != 200 || body["active"] != tc.active {
				t.Fatalf("%d %v", resp.StatusCode, body)
			}
			if !tc.active && len(body) != 1 {
				t.Fatalf("an inactive answer carries more than active: %v", body)
			}
			if tc.active && body["client_id"] != "reporter" {
				t.Fatalf("%v", body)
			}
		})
	}
}

// TestRevokeByPublicClientIsNoOracle: naming a public client's id (no
// secret) answers 200 for another client's live token, as for garbage, and
// revokes nothing; a confidential client still gets unauthorized_client.
func TestRevokeByPublicClientIsNoOracle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.srv.CreateClient(ctx, &storage.Client{ID: "native", Public: true,
		RedirectURIs: []string{"http://127.0.0.1/cb"}, GrantTypes: []string{"authorization_code"}})
	must(t, err)
	tok := f.issue(t, usersAPI).AccessToken
	endpoint := f.srv.Metadata().RevocationEndpoint
	for _, raw := range []string{tok, "garbage"} {
		resp, body := postForm(t, endpoint, url.Values{"token": {raw}, "client_id": {"native"}}, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("public client, token %.10q: %d %v", raw, resp.StatusCode, body)
		}
	}
	if in, err := f.srv.Introspect(ctx, tok); err != nil || !in.Active {
		t.Fatalf("a public client revoked another client's token: %+v %v", in, err)
	}
	resp, body := postForm(t, endpoint, url.Values{"token": {tok}}, basic("other", f.secret2))
	if resp.StatusCode != 400 || body["error"] != "unauthorized_client" {
		t.Fatalf("confidential client: %d %v", resp.StatusCode, body)
	}
}
