package authz_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/grant"
)

// renamed registers a grant under another grant type, with its
// capabilities.
type renamed struct {
	authz.Grant
	name string
}

func (r renamed) GrantType() string { return r.name }

func (r renamed) Capabilities() authz.Capabilities { return r.Grant.(authz.Capable).Capabilities() }

// incapable is a grant under its own name that declares no capabilities.
type incapable struct{ authz.Grant }

// customGrant is a grant decided by a function.
type customGrant struct {
	name   string
	decide func(ctx context.Context, x *authz.Exchange) (*authz.Decision, error)
}

func (g customGrant) GrantType() string { return g.name }

func (g customGrant) Decide(ctx context.Context, x *authz.Exchange) (*authz.Decision, error) {
	return g.decide(ctx, x)
}

// allowGrantTypes lets bank-app use the grant types.
func (f *userFixture) allowGrantTypes(t *testing.T, types ...string) {
	t.Helper()
	ctx := context.Background()
	c, err := f.store.Clients().Get(ctx, "bank-app")
	must(t, err)
	c.GrantTypes = types
	must(t, f.store.Clients().Update(ctx, c))
}

// postGrant posts a token request of bank-app.
func (f *userFixture) postGrant(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, body := postForm(t, f.ts.URL+"/oauth/token", form, basic("bank-app", f.bankSecret))
	return resp.StatusCode, body
}

func withGrants(grants ...authz.Grant) func(*authz.Config) {
	return func(c *authz.Config) { c.Grants = grants }
}

var bankOffline = []string{"read:balance", "offline_access"}

// TestGrantCapabilitiesNotNames: what the server does for a grant follows
// the capabilities it declares, whatever its grant type is called.
func TestGrantCapabilitiesNotNames(t *testing.T) {
	t.Run("a refresh grant under another name", func(t *testing.T) {
		f := newUserFixture(t, withGrants(grant.AuthorizationCode{}, renamed{grant.RefreshToken{}, "urn:example:refresh"}))
		f.allowGrantTypes(t, "authorization_code", "urn:example:refresh")
		if !slices.Contains(f.srv.Metadata().ScopesSupported, "offline_access") {
			t.Fatalf("scopes_supported = %v, want offline_access", f.srv.Metadata().ScopesSupported)
		}
		tok := f.exchange(t, "bank-app", "alice", bankOffline, bankOffline...)
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token")
		}
		status, body := f.postGrant(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		if status != 400 || body["error"] != "unsupported_grant_type" {
			t.Fatalf("refresh_token: %d %v", status, body)
		}
		status, body = f.postGrant(t, url.Values{"grant_type": {"urn:example:refresh"}, "refresh_token": {tok.RefreshToken}})
		if status != 200 || body["refresh_token"] == nil {
			t.Fatalf("urn:example:refresh: %d %v", status, body)
		}
	})
	t.Run("a grant called refresh_token without the capability", func(t *testing.T) {
		f := newUserFixture(t, withGrants(grant.AuthorizationCode{}, incapable{grant.RefreshToken{}}))
		if slices.Contains(f.srv.Metadata().ScopesSupported, "offline_access") {
			t.Fatalf("scopes_supported = %v", f.srv.Metadata().ScopesSupported)
		}
		if tok := f.exchange(t, "bank-app", "alice", bankOffline, bankOffline...); tok.RefreshToken != "" {
			t.Fatal("a refresh token no grant of the server redeems")
		}
	})
	t.Run("a grant called authorization_code without the capability", func(t *testing.T) {
		f := newUserFixture(t, withGrants(incapable{grant.AuthorizationCode{}}, grant.RefreshToken{}))
		if m := f.srv.Metadata(); m.AuthorizationEndpoint != "" || len(m.ResponseTypesSupported) != 0 {
			t.Fatalf("metadata advertises /authorize: %q %v", m.AuthorizationEndpoint, m.ResponseTypesSupported)
		}
		// Without a grant to redeem codes there is no /authorize.
		b := f.browser(t)
		if cb := b.get(f.oauth("bank-app").AuthCodeURL("s", oauth2.SetAuthURLParam("audience", bankUserAPI))); cb != nil || b.last.StatusCode != http.StatusNotFound {
			t.Fatalf("/authorize answered %d, callback %v", b.last.StatusCode, cb)
		}
	})
}

// TestGrantCannotSkipRules: a decision that says it is a login still runs
// the rules at the token endpoint unless it was redeemed from a code, whose
// rules ran at /authorize.
func TestGrantCannotSkipRules(t *testing.T) {
	impersonate := customGrant{name: "urn:example:impersonate", decide: func(ctx context.Context, x *authz.Exchange) (*authz.Decision, error) {
		user, err := x.Directory.User(ctx, "alice")
		if err != nil {
			return nil, err
		}
		return &authz.Decision{Trigger: authz.TriggerLogin, GrantType: "authorization_code", Subject: user.ID, User: user,
			API: x.API, RequestedScopes: x.Request.Scopes, Scopes: x.Request.Scopes}, nil
	}}
	f, _ := newRulesFixture(t, func(c *authz.Config) { c.Grants = append(c.Grants, impersonate) },
		rule("deny-logins", func(_ context.Context, tx *authz.Transaction) error {
			if tx.Trigger == authz.TriggerLogin {
				return tx.Deny("no logins")
			}
			return nil
		}))
	f.allowGrantTypes(t, "urn:example:impersonate")
	status, body := f.postGrant(t, url.Values{"grant_type": {"urn:example:impersonate"}, "audience": {bankUserAPI}, "scope": {"read:balance"}})
	if status != http.StatusForbidden || body["error"] != "access_denied" || body["access_token"] != nil {
		t.Fatalf("%d %v, want the rule's access_denied", status, body)
	}
}

// TestContinuationIsTheServers: a grant that continues a family cannot
// skip the re-decision of the grant nor hand the family to another user;
// either fails without rotating the refresh token.
func TestContinuationIsTheServers(t *testing.T) {
	lazy := customGrant{name: "urn:example:lazy", decide: func(ctx context.Context, x *authz.Exchange) (*authz.Decision, error) {
		cont, err := x.Families.Continue(ctx, x.Client, x.Request.RefreshToken)
		if err != nil {
			return nil, err
		}
		return &authz.Decision{Trigger: authz.TriggerRefresh, GrantType: "refresh_token", Subject: cont.User().ID, User: cont.User(),
			API: cont.API(), Scopes: cont.Scopes(), Continuation: cont, IssueRefresh: true}, nil
	}}
	swap := customGrant{name: "urn:example:swap", decide: func(ctx context.Context, x *authz.Exchange) (*authz.Decision, error) {
		cont, err := x.Families.Continue(ctx, x.Client, x.Request.RefreshToken)
		if err != nil {
			return nil, err
		}
		kept, _, err := x.Policy.Redecide(ctx, x.Client, cont)
		if err != nil {
			return nil, err
		}
		bob, err := x.Directory.User(ctx, "bob")
		if err != nil {
			return nil, err
		}
		return &authz.Decision{Trigger: authz.TriggerRefresh, GrantType: "refresh_token", Subject: bob.ID, User: bob,
			API: cont.API(), Scopes: kept, Continuation: cont, IssueRefresh: true}, nil
	}}
	f := newUserFixture(t, withGrants(grant.AuthorizationCode{}, grant.RefreshToken{}, lazy, swap))
	f.allowGrantTypes(t, "authorization_code", "refresh_token", "urn:example:lazy", "urn:example:swap")
	tok := f.exchange(t, "bank-app", "alice", bankOffline, bankOffline...)
	for _, gt := range []string{"urn:example:lazy", "urn:example:swap"} {
		status, body := f.postGrant(t, url.Values{"grant_type": {gt}, "refresh_token": {tok.RefreshToken}})
		if status != http.StatusInternalServerError || body["access_token"] != nil || body["refresh_token"] != nil {
			t.Fatalf("%s: %d %v, want server_error", gt, status, body)
		}
	}
	// Nothing was rotated: the token is still the family's live one.
	status, body := f.refreshOver(t, "bank-app", tok.RefreshToken)
	if status != 200 || body["refresh_token"] == nil {
		t.Fatalf("refresh after the refused continuations: %d %v", status, body)
	}
	if c := decodePayload(t, body["access_token"].(string)); c["sub"] != "alice" {
		t.Fatalf("sub = %v", c["sub"])
	}
}
