package authz_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
)

// refreshOver posts a refresh-token grant for client over HTTP.
func (f *userFixture) refreshOver(t *testing.T, client, rt string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if client == "events-app" {
		form.Set("client_id", client)
		resp, body := postForm(t, f.ts.URL+"/oauth/token", form, nil)
		return resp.StatusCode, body
	}
	resp, body := postForm(t, f.ts.URL+"/oauth/token", form, basic(client, f.bankSecret))
	return resp.StatusCode, body
}

// TestRefreshDecidesAgain: a refresh keeps only what the API, the user's
// permissions, the API's offline access and the user's consent still allow;
// withdrawing the consent or deleting the user revokes the grant's tokens.
func TestRefreshDecidesAgain(t *testing.T) {
	ctx := context.Background()
	bankScopes := []string{"read:balance", "transfer:funds", "offline_access"}
	bankToken := func(t *testing.T, f *userFixture) (access, refresh string) {
		tok := f.exchange(t, "bank-app", "alice", bankScopes, bankScopes...)
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token")
		}
		return tok.AccessToken, tok.RefreshToken
	}
	updateAPI := func(t *testing.T, f *userFixture, change func(*storage.API)) {
		api, err := f.store.APIs().Get(ctx, bankUserAPI)
		must(t, err)
		change(api)
		must(t, f.store.APIs().Update(ctx, api))
	}
	invalidGrant := func(t *testing.T, status int, body map[string]any) {
		t.Helper()
		if status != 400 || body["error"] != "invalid_grant" || body["access_token"] != nil {
			t.Fatalf("%d %v, want invalid_grant", status, body)
		}
	}
	t.Run("scope removed from the API", func(t *testing.T) {
		f := newUserFixture(t)
		_, rt := bankToken(t, f)
		updateAPI(t, f, func(a *storage.API) { a.Scopes = a.Scopes[:1] })
		status, body := f.refreshOver(t, "bank-app", rt)
		if status != 200 || body["scope"] != "read:balance offline_access" {
			t.Fatalf("%d %v", status, body)
		}
		in, err := f.srv.Introspect(ctx, body["refresh_token"].(string))
		if err != nil || !in.Active || strings.Contains(in.Scope, "transfer:funds") {
			t.Fatalf("new refresh token keeps the removed scope: %+v %v", in, err)
		}
	})
	t.Run("role lost under EnforceRBAC", func(t *testing.T) {
		f := newUserFixture(t)
		tok := f.exchange(t, "events-app", "alice", []string{"create:events", "update:events", "offline_access"})
		u, err := f.store.Users().Get(ctx, "alice")
		must(t, err)
		u.Roles = nil
		must(t, f.store.Users().Update(ctx, u))
		status, body := f.refreshOver(t, "events-app", tok.RefreshToken)
		if status != 200 || body["scope"] != "offline_access" {
			t.Fatalf("%d %v: the user no longer holds the scopes", status, body)
		}
	})
	t.Run("offline access switched off", func(t *testing.T) {
		f := newUserFixture(t)
		_, rt := bankToken(t, f)
		updateAPI(t, f, func(a *storage.API) { a.AllowOfflineAccess = false })
		status, body := f.refreshOver(t, "bank-app", rt)
		invalidGrant(t, status, body)
	})
	t.Run("consent revoked", func(t *testing.T) {
		f := newUserFixture(t)
		at, rt := bankToken(t, f)
		// Narrowed consent: the refresh keeps what is still consented to.
		c, err := f.store.Consents().Get(ctx, storage.JoinKey("alice", "bank-app", bankUserAPI))
		must(t, err)
		c.Scopes = []string{"read:balance", "offline_access"}
		must(t, f.store.Consents().Update(ctx, c))
		status, body := f.refreshOver(t, "bank-app", rt)
		if status != 200 || body["scope"] != "read:balance offline_access" {
			t.Fatalf("narrowed consent: %d %v", status, body)
		}
		rt = body["refresh_token"].(string)
		must(t, f.srv.RevokeConsent(ctx, "alice", "bank-app", bankUserAPI))
		status, body = f.refreshOver(t, "bank-app", rt)
		invalidGrant(t, status, body)
		if _, err := f.srv.Authorize(ctx, at, resource.Requirement{Audience: bankUserAPI}); !errors.Is(err, oauth.ErrInvalidToken) {
			t.Fatalf("access token still accepted after RevokeConsent: %v", err)
		}
	})
	t.Run("consent revoked for another client leaves this grant", func(t *testing.T) {
		f := newUserFixture(t)
		at, _ := bankToken(t, f)
		if err := f.srv.RevokeConsent(ctx, "alice", "events-app", bankUserAPI); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("RevokeConsent of no consent: %v", err)
		}
		if _, err := f.srv.Authorize(ctx, at, resource.Requirement{Audience: bankUserAPI}); err != nil {
			t.Fatalf("another client's consent revoked this grant: %v", err)
		}
	})
	t.Run("user deleted", func(t *testing.T) {
		f := newUserFixture(t)
		at, rt := bankToken(t, f)
		must(t, f.srv.DeleteUser(ctx, "alice"))
		status, body := f.refreshOver(t, "bank-app", rt)
		invalidGrant(t, status, body)
		if _, err := f.srv.Authorize(ctx, at, resource.Requirement{Audience: bankUserAPI}); !errors.Is(err, oauth.ErrInvalidToken) {
			t.Fatalf("access token still accepted after DeleteUser: %v", err)
		}
		if err := f.srv.DeleteUser(ctx, "alice"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("second DeleteUser: %v", err)
		}
	})
}

// TestRefreshRuleCannotRestoreWithdrawnConsent: on refresh, a rule cannot
// add back a scope the user no longer consents to.
func TestRefreshRuleCannotRestoreWithdrawnConsent(t *testing.T) {
	f, _ := newRulesFixture(t, nil, rule("restore", func(_ context.Context, tx *authz.Transaction) error {
		if tx.Trigger == authz.TriggerRefresh {
			_ = tx.AddScope("transfer:funds")
		}
		return nil
	}))
	ctx := context.Background()
	scopes := []string{"read:balance", "transfer:funds", "offline_access"}
	tok := f.exchange(t, "bank-app", "alice", scopes, scopes...)
	c, err := f.store.Consents().Get(ctx, storage.JoinKey("alice", "bank-app", bankUserAPI))
	must(t, err)
	c.Scopes = []string{"read:balance", "offline_access"}
	must(t, f.store.Consents().Update(ctx, c))
	status, body := f.refreshOver(t, "bank-app", tok.RefreshToken)
	if status != 200 || body["scope"] != "read:balance offline_access" {
		t.Fatalf("%d %v", status, body)
	}
}
