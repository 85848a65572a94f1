package authz_test

import (
	"context"
	"errors"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
)

// TestIntrospectInactiveNotShared: changing one inactive answer does not
// change the next.
func TestIntrospectInactiveNotShared(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in, err := f.srv.Introspect(ctx, "never-issued")
	must(t, err)
	in.Active, in.Scope = true, "write:users"
	for _, raw := range []string{"never-issued", "fam.secret", "a.b.c"} {
		if got, err := f.srv.Introspect(ctx, raw); err != nil || got.Active || got.Scope != "" {
			t.Fatalf("%q after a caller changed an earlier answer: %+v %v", raw, got, err)
		}
	}
}

// TestExplainClientCredentialsMatchesIssue: Explain makes Issue's decision,
// refusals included.
func TestExplainClientCredentialsMatchesIssue(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, aud string
		scopes    []string
		want      oauth.Code
	}{
		{"ungranted scope", usersAPI, []string{"write:users"}, oauth.ErrInvalidScope},
		{"undefined scope", usersAPI, []string{"drop:tables"}, oauth.ErrInvalidScope},
		{"no client grant", "https://nowhere.example.com", nil, oauth.ErrInvalidTarget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ierr := f.srv.Issue(ctx, &authz.TokenRequest{GrantType: "client_credentials", ClientID: "reporter",
				ClientSecret: f.secret, AuthMethod: oauth.AuthBasic, Audience: tc.aud, Scopes: tc.scopes})
			ex, err := f.srv.Explain(ctx, authz.ExplainRequest{ClientID: "reporter", Audience: tc.aud, Scopes: tc.scopes})
			if !errors.Is(ierr, tc.want) || !errors.Is(err, tc.want) {
				t.Fatalf("Issue: %v; Explain: %v %+v; want %v from both", ierr, err, ex, tc.want)
			}
		})
	}
	ex, err := f.srv.Explain(ctx, authz.ExplainRequest{ClientID: "reporter", Audience: usersAPI})
	if err != nil || len(ex.Scopes) != 1 || ex.Scopes[0] != "read:users" || ex.AccessToken["sub"] != "reporter@clients" {
		t.Fatalf("%+v %v", ex, err)
	}
}
