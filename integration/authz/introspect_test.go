package authz_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
)

func TestIntrospectAndRevokeOverHTTP(t *testing.T) {
	f := newFixture(t)
	md := f.srv.Metadata()
	tok := f.issue(t, usersAPI).AccessToken
	creds := basic("reporter", f.secret)

	introspect := func(t *testing.T, raw string, h http.Header) (int, map[string]any) {
		resp, body := postForm(t, md.IntrospectionEndpoint, url.Values{"token": {raw}}, h)
		return resp.StatusCode, body
	}
	t.Run("active", func(t *testing.T) {
		code, body := introspect(t, tok, creds)
		if code != 200 || body["active"] != true || body["scope"] != "read:users" || body["client_id"] != "reporter" ||
			body["sub"] != "reporter@clients" || body["iss"] != f.srv.Issuer() || body["token_type"] != "Bearer" ||
			body["exp"] == nil || body["iat"] == nil || body["jti"] == nil {
			t.Fatalf("%d %v", code, body)
		}
		aud, _ := body["aud"].([]any)
		if len(aud) != 1 || aud[0] != usersAPI {
			t.Fatalf("aud %v", body["aud"])
		}
	})
	t.Run("unknown is inactive and nothing else", func(t *testing.T) {
		for _, raw := range []string{"garbage", "a.b.c", "fam.secret"} {
			code, body := introspect(t, raw, creds)
			if code != 200 || len(body) != 1 || body["active"] != false {
				t.Fatalf("%q: %d %v", raw, code, body)
			}
		}
	})
	t.Run("unauthenticated caller", func(t *testing.T) {
		code, body := introspect(t, tok, basic("reporter", "wrong"))
		if code != 401 || body["error"] != "invalid_client" {
			t.Fatalf("%d %v", code, body)
		}
		code, _ = introspect(t, tok, nil)
		if code != 401 {
			t.Fatalf("no credentials: %d", code)
		}
	})
	t.Run("revoke by another client is refused and does nothing", func(t *testing.T) {
		resp, body := postForm(t, md.RevocationEndpoint, url.Values{"token": {tok}}, basic("other", f.secret2))
		if resp.StatusCode != 400 || body["error"] != "unauthorized_client" {
			t.Fatalf("RFC 7009 §2.1: %d %v", resp.StatusCode, body)
		}
		if _, err := f.srv.Authorize(context.Background(), tok, resource.Requirement{Audience: usersAPI}); err != nil {
			t.Fatalf("token revoked by a foreign client: %v", err)
		}
	})
	t.Run("revoke then inactive and refused", func(t *testing.T) {
		resp, _ := postForm(t, md.RevocationEndpoint, url.Values{"token": {tok}, "token_type_hint": {"access_token"}}, creds)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		code, body := introspect(t, tok, creds)
		if code != 200 || len(body) != 1 || body["active"] != false {
			t.Fatalf("%d %v", code, body)
		}
		_, err := f.srv.Authorize(context.Background(), tok, resource.Requirement{Audience: usersAPI})
		if !errors.Is(err, oauth.ErrInvalidToken) {
			t.Fatalf("Authorize after revoke: %v", err)
		}
	})
	t.Run("revoking an unknown token answers 200", func(t *testing.T) {
		resp, _ := postForm(t, md.RevocationEndpoint, url.Values{"token": {"never-issued"}}, creds)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("missing token parameter", func(t *testing.T) {
		resp, body := postForm(t, md.RevocationEndpoint, url.Values{}, creds)
		if resp.StatusCode != 400 || body["error"] != "invalid_request" {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
	})
}

// downStore fails every revocation and directory read, as a backend that is
// down does.
type downStore struct {
	storage.Store
	down bool
}

var errDown = errors.New("dial tcp 10.0.0.7:6379: connection refused")

func (d *downStore) Resolve(ctx context.Context, clientID, aud string) (*storage.Resolution, error) {
	if d.down {
		return nil, errors.Join(storage.ErrUnavailable, errDown)
	}
	return d.Store.Resolve(ctx, clientID, aud)
}

func (d *downStore) RevokeToken(ctx context.Context, r *storage.Revocation) error {
	if d.down {
		return errors.Join(storage.ErrUnavailable, errDown)
	}
	return d.Store.RevokeToken(ctx, r)
}

func (d *downStore) TokenRevoked(ctx context.Context, family, jti string) (bool, error) {
	if d.down {
		return false, errors.Join(storage.ErrUnavailable, errDown)
	}
	return d.Store.TokenRevoked(ctx, family, jti)
}

// TestStorageOutageFailsClosed: with the backend down, nothing is issued,
// revocation answers 503 (never 200), Authorize and introspection refuse, and
// no internal detail leaks.
func TestStorageOutageFailsClosed(t *testing.T) {
	var ds *downStore
	f := newFixture(t, func(c *authz.Config) { ds = &downStore{Store: c.Store}; c.Store = ds })
	tok := f.issue(t, usersAPI).AccessToken
	md := f.srv.Metadata()
	ds.down = true
	t.Run("token endpoint", func(t *testing.T) {
		resp, body := postForm(t, md.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "audience": {usersAPI}}, basic("reporter", f.secret))
		if resp.StatusCode != 503 || body["error"] != "temporarily_unavailable" || body["access_token"] != nil || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
		if d, _ := body["error_description"].(string); d != "" {
			t.Fatalf("description leaks: %q", d)
		}
	})
	t.Run("revocation", func(t *testing.T) {
		resp, _ := postForm(t, md.RevocationEndpoint, url.Values{"token": {tok}}, basic("reporter", f.secret))
		if resp.StatusCode != 503 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("introspection", func(t *testing.T) {
		resp, body := postForm(t, md.IntrospectionEndpoint, url.Values{"token": {tok}}, basic("reporter", f.secret))
		if resp.StatusCode != 503 || body["active"] != nil {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
	})
	t.Run("authorize", func(t *testing.T) {
		h := f.srv.Authorizer(usersAPI).RequireScopes("read:users")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t.Fatal("handler reached during an outage")
		}))
		rec := httpRoundTrip(t, h, "GET", "/", tok)
		if rec.Code != 503 {
			t.Fatalf("status %d", rec.Code)
		}
	})
	ds.down = false
	t.Run("recovers", func(t *testing.T) {
		if _, err := f.srv.Authorize(context.Background(), tok, resource.Requirement{Audience: usersAPI}); err != nil {
			t.Fatal(err)
		}
	})
}

// recordingStore keeps the last revocation record written.
type recordingStore struct {
	storage.Store
	mu   sync.Mutex
	last *storage.Revocation
}

// WithClock keeps the recorder in front of the view the server clocks.
func (r *recordingStore) WithClock(now func() time.Time) storage.Store {
	r.Store = r.Store.WithClock(now)
	return r
}

func (r *recordingStore) RevokeToken(ctx context.Context, rev *storage.Revocation) error {
	r.mu.Lock()
	c := *rev
	r.last = &c
	r.mu.Unlock()
	return r.Store.RevokeToken(ctx, rev)
}

// TestRevocationRecordOutlivesToken: the verifier accepts a token up to the
// leeway past exp, so the revocation record must last at least that long,
// and a revoked token is refused throughout that window.
func TestRevocationRecordOutlivesToken(t *testing.T) {
	clk := newTestClock()
	var rs *recordingStore
	const leeway = 30 * time.Second
	f := newFixture(t, withClock(clk), func(c *authz.Config) {
		rs = &recordingStore{Store: c.Store}
		c.Store = rs
		c.Leeway = leeway
	})
	ctx := context.Background()
	tok := f.issue(t, usersAPI).AccessToken
	exp := expOf(t, tok)
	must(t, f.srv.Revoke(ctx, "reporter", tok))
	rs.mu.Lock()
	rec := rs.last
	rs.mu.Unlock()
	if rec == nil || rec.JTI != decodePayload(t, tok)["jti"] {
		t.Fatalf("revocation record %+v", rec)
	}
	if rec.ExpiresAt.Before(exp.Add(leeway)) {
		t.Fatalf("record expires at %v, before exp+leeway %v: the token would pass again", rec.ExpiresAt, exp.Add(leeway))
	}
	if rec.ExpiresAt.After(exp.Add(leeway + time.Minute)) {
		t.Fatalf("record kept until %v, long after the token is dead (%v)", rec.ExpiresAt, exp.Add(leeway))
	}
	// Just before exp+leeway the verifier alone would accept the token: the
	// revocation must still refuse it.
	clk.set(exp.Add(leeway - time.Second))
	if _, err := f.srv.Authorize(ctx, tok, resource.Requirement{Audience: usersAPI}); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("revoked token inside the leeway: %v", err)
	}
	clk.set(exp.Add(leeway + time.Second))
	if _, err := f.srv.Authorize(ctx, tok, resource.Requirement{Audience: usersAPI}); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("token past exp+leeway: %v", err)
	}
}

// TestIntrospectExpired: introspection answers from the issuer's own clock
// with no leeway: a token past exp is inactive (RFC 7662 §2.2), though a
// resource server may still accept it within its clock-skew leeway.
func TestIntrospectExpired(t *testing.T) {
	clk := newTestClock()
	f := newFixture(t, withClock(clk))
	ctx := context.Background()
	tok := f.issue(t, usersAPI).AccessToken
	exp := expOf(t, tok)
	clk.set(exp.Add(-time.Second))
	if in, err := f.srv.Introspect(ctx, tok); err != nil || !in.Active {
		t.Fatalf("a second before exp: %+v %v", in, err)
	}
	clk.set(exp)
	in, err := f.srv.Introspect(ctx, tok)
	if err != nil || in.Active || in.Scope != "" || in.ClientID != "" || in.ExpiresAt != 0 {
		t.Fatalf("at exp: %+v %v", in, err)
	}
	clk.set(exp.Add(10 * time.Second))
	resp, body := postForm(t, f.srv.Metadata().IntrospectionEndpoint, url.Values{"token": {tok}}, basic("reporter", f.secret))
	if resp.StatusCode != 200 || len(body) != 1 || body["active"] != false {
		t.Fatalf("past exp over HTTP: %d %v", resp.StatusCode, body)
	}
	// The leeway is for resource servers' clocks, not the issuer's.
	if _, err := f.srv.Authorize(ctx, tok, resource.Requirement{Audience: usersAPI}); err != nil {
		t.Fatalf("Authorize within the leeway: %v", err)
	}
}

// TestRevokeOtherClientsTokenInProcess: Revoke refuses another client's
// token and leaves it active; unknown tokens are still no error.
func TestRevokeOtherClientsTokenInProcess(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.issue(t, usersAPI).AccessToken
	if err := f.srv.Revoke(ctx, "other", tok); !errors.Is(err, oauth.ErrUnauthorizedClient) {
		t.Fatalf("err = %v, want unauthorized_client", err)
	}
	if in, err := f.srv.Introspect(ctx, tok); err != nil || !in.Active {
		t.Fatalf("token revoked by another client: %+v %v", in, err)
	}
	for _, raw := range []string{"never-issued", "fam.secret", "a.b.c"} {
		if err := f.srv.Revoke(ctx, "other", raw); err != nil {
			t.Fatalf("unknown token %q: %v", raw, err)
		}
	}
}
