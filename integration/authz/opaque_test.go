package authz_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
)

const vaultAPI = "https://vault.example.com"

// withVault adds the ledger API, which issues opaque access tokens, with
// a client grant for "reporter" and its resource server "ledger-rs"
// (allowed to introspect the ledger's tokens); it returns that client's
// secret.
func withVault(t *testing.T, f *fixture) string {
	t.Helper()
	ctx := context.Background()
	must(t, f.store.APIs().Create(ctx, &storage.API{Identifier: vaultAPI, Name: "ledger", TokenFormat: storage.TokenFormatOpaque,
		Scopes: []storage.Scope{{Name: "read:ledger"}, {Name: "write:ledger"}}}))
	must(t, f.store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "reporter", Audience: vaultAPI, Scopes: []string{"read:ledger"}}))
	secret, err := f.srv.CreateClient(ctx, &storage.Client{ID: "ledger-rs", IntrospectAudiences: []string{vaultAPI}})
	must(t, err)
	return secret
}

// vaultToken asks the token endpoint over HTTP for a ledger token.
func vaultToken(t *testing.T, f *fixture) map[string]any {
	t.Helper()
	resp, body := postForm(t, f.srv.Metadata().TokenEndpoint,
		url.Values{"grant_type": {"client_credentials"}, "audience": {vaultAPI}}, basic("reporter", f.secret))
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, body)
	}
	return body
}

// TestOpaqueTokenLifecycle: an opaque API's token is a reference, not a
// JWT, in the usual token response; introspection describes it to its
// client and to the API's resource server only; revocation ends it at once,
// for introspection and for Authorize.
func TestOpaqueTokenLifecycle(t *testing.T) {
	f := newFixture(t)
	rsSecret := withVault(t, f)
	ctx := context.Background()
	body := vaultToken(t, f)
	tok, _ := body["access_token"].(string)
	if !strings.HasPrefix(tok, resource.OpaquePrefix+"-.") || strings.Count(tok, ".") != 1 || len(tok) < len("skat_-.")+43 {
		t.Fatalf("not an opaque token: %q", tok)
	}
	if body["token_type"] != "Bearer" || body["expires_in"] == nil {
		t.Fatalf("token response %v", body)
	}
	// Another API still gets JWTs.
	if jwt := f.issue(t, usersAPI).AccessToken; strings.Count(jwt, ".") != 2 {
		t.Fatalf("JWT API token %q", jwt)
	}

	introspect := func(auth string, secret string) map[string]any {
		t.Helper()
		resp, body := postForm(t, f.srv.Metadata().IntrospectionEndpoint, url.Values{"token": {tok}}, basic(auth, secret))
		if resp.StatusCode != 200 {
			t.Fatalf("introspect: %d %v", resp.StatusCode, body)
		}
		return body
	}
	for _, who := range []struct{ id, secret string }{{"reporter", f.secret}, {"ledger-rs", rsSecret}} {
		in := introspect(who.id, who.secret)
		aud, _ := in["aud"].([]any)
		if in["active"] != true || in["client_id"] != "reporter" || in["sub"] != "reporter@clients" || in["scope"] != "read:ledger" ||
			len(aud) != 1 || aud[0] != vaultAPI || in["token_type"] != "Bearer" || in["jti"] == nil || in["exp"] == nil {
			t.Fatalf("introspection by %s: %v", who.id, in)
		}
	}
	if in := introspect("other", f.secret2); in["active"] != false || len(in) != 1 {
		t.Fatalf("introspection by an unrelated client: %v", in)
	}

	az := f.srv.Authorizer(vaultAPI)
	p, err := az.Authorize(ctx, tok, resource.Requirement{AllOf: []string{"read:ledger"}})
	must(t, err)
	if p.Subject != "reporter@clients" || p.ClientID != "reporter" || p.Scope != "read:ledger" || p.Claims["gty"] != "client-credentials" {
		t.Fatalf("principal %+v", p)
	}
	if _, err := az.Authorize(ctx, tok, resource.Requirement{AllOf: []string{"write:ledger"}}); !errors.Is(err, oauth.ErrInsufficientScope) {
		t.Fatalf("missing scope: %v", err)
	}
	if _, err := f.srv.Authorizer(usersAPI).Authorize(ctx, tok, resource.Requirement{}); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("opaque token at another API: %v", err)
	}
	// A forged reference of the right shape is unknown.
	if _, err := az.Authorize(ctx, tok[:len(tok)-4]+"AAAA", resource.Requirement{}); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("forged token: %v", err)
	}

	// Another client may not revoke it (RFC 7009 §2.1).
	resp, rb := postForm(t, f.srv.Metadata().RevocationEndpoint, url.Values{"token": {tok}}, basic("other", f.secret2))
	if resp.StatusCode == 200 {
		t.Fatalf("foreign revocation accepted: %v", rb)
	}
	if in := introspect("reporter", f.secret); in["active"] != true {
		t.Fatalf("foreign revocation took effect: %v", in)
	}
	resp, rb = postForm(t, f.srv.Metadata().RevocationEndpoint, url.Values{"token": {tok}}, basic("reporter", f.secret))
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %d %v", resp.StatusCode, rb)
	}
	if in := introspect("reporter", f.secret); in["active"] != false || len(in) != 1 {
		t.Fatalf("revoked token introspected %v", in)
	}
	if _, err := az.Authorize(ctx, tok, resource.Requirement{}); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("revoked token authorized: %v", err)
	}
}

// TestOpaqueTokenExpires: past its exp on the issuer's clock the token is
// inactive and refused.
func TestOpaqueTokenExpires(t *testing.T) {
	clk := newTestClock()
	f := newFixture(t, withClock(clk))
	withVault(t, f)
	tok := vaultToken(t, f)["access_token"].(string)
	az := f.srv.Authorizer(vaultAPI)
	ctx := context.Background()
	must(t, func() error { _, err := az.Authorize(ctx, tok, resource.Requirement{}); return err }())
	clk.add(25 * time.Hour)
	if _, err := az.Authorize(ctx, tok, resource.Requirement{}); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("expired token authorized: %v", err)
	}
	in, err := f.srv.Introspect(ctx, tok)
	must(t, err)
	if in.Active {
		t.Fatalf("expired token active: %+v", in)
	}
}

// opaqueCountingStore counts the reads an Authorize could make of the store.
type opaqueCountingStore struct {
	storage.Store
	reads *atomic.Int64
}

func (c opaqueCountingStore) GetOpaque(ctx context.Context, family, hash string) (*storage.OpaqueToken, error) {
	c.reads.Add(1)
	return c.Store.GetOpaque(ctx, family, hash)
}

func (c opaqueCountingStore) TokenRevoked(ctx context.Context, family, jti string) (bool, error) {
	c.reads.Add(1)
	return c.Store.TokenRevoked(ctx, family, jti)
}

func (c opaqueCountingStore) GetFamily(ctx context.Context, id string) (*storage.Family, error) {
	c.reads.Add(1)
	return c.Store.GetFamily(ctx, id)
}

func (c opaqueCountingStore) Resolve(ctx context.Context, clientID, audience string) (*storage.Resolution, error) {
	c.reads.Add(1)
	return c.Store.Resolve(ctx, clientID, audience)
}

func (c opaqueCountingStore) Tenant(id string) storage.Store {
	return opaqueCountingStore{Store: c.Store.Tenant(id), reads: c.reads}
}

func (c opaqueCountingStore) WithClock(now func() time.Time) storage.Store {
	return opaqueCountingStore{Store: c.Store.WithClock(now), reads: c.reads}
}

// TestOpaqueAuthorizeOneStoreRead: the in-process Authorizer resolves an
// opaque token with a single store read, every time (nothing is cached, so
// a revocation is seen by the next request).
func TestOpaqueAuthorizeOneStoreRead(t *testing.T) {
	reads := &atomic.Int64{}
	f := newFixture(t, func(c *authz.Config) { c.Store = opaqueCountingStore{Store: c.Store, reads: reads} })
	withVault(t, f)
	tok := vaultToken(t, f)["access_token"].(string)
	az := f.srv.Authorizer(vaultAPI)
	ctx := context.Background()
	for i := range 3 {
		before := reads.Load()
		if _, err := az.Authorize(ctx, tok, resource.Requirement{AllOf: []string{"read:ledger"}}); err != nil {
			t.Fatal(err)
		}
		if n := reads.Load() - before; n != 1 {
			t.Fatalf("Authorize %d read the store %d times, want 1", i, n)
		}
	}
}

// TestOpaqueUserTokensJoinTheFamily: the code and refresh grants issue
// opaque tokens of the grant's family; revoking the refresh token revokes
// them all.
func TestOpaqueUserTokensJoinTheFamily(t *testing.T) {
	f := newUserFixture(t)
	ctx := context.Background()
	api, err := f.store.APIs().Get(ctx, eventsAPI)
	must(t, err)
	api.TokenFormat = storage.TokenFormatOpaque
	must(t, f.store.APIs().Update(ctx, api))

	b := f.browser(t)
	b.login(f, "alice")
	u, v := f.eventsURL([]string{"create:events", "offline_access"}, oauth2.SetAuthURLParam("audience", eventsAPI))
	cb := f.authorize(t, b, u, "alice")
	tok, err := f.oauth("events-app").Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(v))
	must(t, err)
	family, _, _ := strings.Cut(tok.RefreshToken, ".")
	if !strings.HasPrefix(tok.AccessToken, resource.OpaquePrefix+family+".") || tok.TokenType != "Bearer" {
		t.Fatalf("access token %q of family %q", tok.AccessToken, family)
	}
	az := f.srv.Authorizer(eventsAPI)
	p, err := az.Authorize(ctx, tok.AccessToken, resource.Requirement{AllOf: []string{"create:events"}})
	must(t, err)
	if perms, _ := p.Claims["permissions"].([]any); p.Subject != "alice" || p.ClientID != "events-app" || len(perms) != 2 {
		t.Fatalf("principal %+v", p)
	}

	next, err := f.oauth("events-app").TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	must(t, err)
	if !strings.HasPrefix(next.AccessToken, resource.OpaquePrefix+family+".") || next.AccessToken == tok.AccessToken {
		t.Fatalf("refreshed access token %q", next.AccessToken)
	}
	must(t, f.srv.Revoke(ctx, "events-app", next.RefreshToken))
	for _, raw := range []string{tok.AccessToken, next.AccessToken} {
		if _, err := az.Authorize(ctx, raw, resource.Requirement{}); !errors.Is(err, oauth.ErrInvalidToken) {
			t.Fatalf("token of a revoked family authorized: %v", err)
		}
		in, err := f.srv.Introspect(ctx, raw)
		must(t, err)
		if in.Active {
			t.Fatalf("token of a revoked family active: %+v", in)
		}
	}
}

// TestRemoteOpaqueByIntrospection: a remote API resolves opaque tokens at
// the issuer's introspection endpoint with its own credentials and reuses
// an answer for at most IntrospectionConfig.CacheFor: a token revoked at
// the issuer is accepted within that bound and refused after it.
func TestRemoteOpaqueByIntrospection(t *testing.T) {
	clk := newTestClock()
	f := newFixture(t, withClock(clk))
	rsSecret := withVault(t, f)
	ctx := context.Background()
	rs, err := resource.NewRemote(ctx, resource.RemoteConfig{Issuer: f.srv.Issuer(), Audience: vaultAPI, Now: clk.Now,
		Introspection: &resource.IntrospectionConfig{ClientID: "ledger-rs", ClientSecret: rsSecret}})
	must(t, err)
	tok := vaultToken(t, f)["access_token"].(string)
	req := resource.Requirement{AllOf: []string{"read:ledger"}}
	p, err := rs.Authorize(ctx, tok, req)
	must(t, err)
	if p.Subject != "reporter@clients" || p.ClientID != "reporter" || p.Scope != "read:ledger" || p.JTI == "" || p.ExpiresAt.IsZero() {
		t.Fatalf("principal %+v", p)
	}
	if _, err := rs.Authorize(ctx, tok, resource.Requirement{AllOf: []string{"write:ledger"}}); !errors.Is(err, oauth.ErrInsufficientScope) {
		t.Fatalf("missing scope: %v", err)
	}

	must(t, f.srv.Revoke(ctx, "reporter", tok))
	clk.add(29 * time.Second)
	if _, err := rs.Authorize(ctx, tok, req); err != nil {
		t.Fatalf("within the cache bound: %v", err)
	}
	clk.add(2 * time.Second)
	if _, err := rs.Authorize(ctx, tok, req); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("past the cache bound a revoked token: %v", err)
	}

	// Without introspection credentials an API refuses opaque tokens; with
	// credentials of a client not allowed to introspect the audience it
	// learns nothing either.
	tok2 := vaultToken(t, f)["access_token"].(string)
	plain, err := resource.NewRemote(ctx, resource.RemoteConfig{Issuer: f.srv.Issuer(), Audience: vaultAPI, Now: clk.Now})
	must(t, err)
	if _, err := plain.Authorize(ctx, tok2, req); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("opaque token without introspection: %v", err)
	}
	stranger, err := resource.NewRemote(ctx, resource.RemoteConfig{Issuer: f.srv.Issuer(), Audience: vaultAPI, Now: clk.Now,
		Introspection: &resource.IntrospectionConfig{ClientID: "other", ClientSecret: f.secret2}})
	must(t, err)
	if _, err := stranger.Authorize(ctx, tok2, req); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("introspection by a client not allowed: %v", err)
	}
}

// TestRemoteOpaqueCacheEndsAtExp: an introspection answer is never reused
// past the token's exp.
func TestRemoteOpaqueCacheEndsAtExp(t *testing.T) {
	clk := newTestClock()
	f := newFixture(t, withClock(clk))
	rsSecret := withVault(t, f)
	ctx := context.Background()
	api, err := f.store.APIs().Get(ctx, vaultAPI)
	must(t, err)
	api.TokenLifetime = time.Minute
	must(t, f.store.APIs().Update(ctx, api))
	rs, err := resource.NewRemote(ctx, resource.RemoteConfig{Issuer: f.srv.Issuer(), Audience: vaultAPI, Now: clk.Now,
		Introspection: &resource.IntrospectionConfig{ClientID: "ledger-rs", ClientSecret: rsSecret, CacheFor: time.Hour}})
	must(t, err)
	tok := vaultToken(t, f)["access_token"].(string)
	if _, err := rs.Authorize(ctx, tok, resource.Requirement{}); err != nil {
		t.Fatal(err)
	}
	clk.add(time.Minute)
	if _, err := rs.Authorize(ctx, tok, resource.Requirement{}); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("cached past exp: %v", err)
	}
}
