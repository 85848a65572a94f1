package authz_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/storagetest"
	"github.com/scopekit/scopekit/token"
)

// lostAnswers is a store whose next CreateFamily or RotateRefresh applies
// the write and then fails as an outage would (the answer lost after the
// backend applied it): the interleaving a client retries after a 503.
type lostAnswers struct {
	storage.Store
	state *lostState
}

type lostState struct{ family, rotation atomic.Bool }

func (s *lostAnswers) WithClock(now func() time.Time) storage.Store {
	return &lostAnswers{Store: s.Store.WithClock(now), state: s.state}
}

func (s *lostAnswers) CreateFamily(ctx context.Context, f *storage.Family, first *storage.RefreshToken) error {
	err := s.Store.CreateFamily(ctx, f, first)
	if err == nil && s.state.family.Swap(false) {
		return storage.ErrUnavailable
	}
	return err
}

func (s *lostAnswers) RotateRefresh(ctx context.Context, family, old string, next *storage.RefreshToken) (*storage.RefreshToken, error) {
	rt, err := s.Store.RotateRefresh(ctx, family, old, next)
	if err == nil && s.state.rotation.Swap(false) {
		return nil, storage.ErrUnavailable
	}
	return rt, err
}

// retryFixture is the user fixture on an injected clock, retries on (the
// default window, 10 s), over a store that can lose answers.
func retryFixture(t *testing.T) (*userFixture, *storagetest.Clock, *lostState) {
	clk := storagetest.NewClock()
	lost := &lostState{}
	f := newUserFixture(t, func(c *authz.Config) {
		c.Now = clk.Now
		c.Store = &lostAnswers{Store: c.Store, state: lost}
	})
	return f, clk, lost
}

// sameGrant fails unless two access tokens (or two ID tokens) are
// equivalent: same subject, client, audience, scope and family, each its
// own jti.
func sameGrant(t *testing.T, a, b string) {
	t.Helper()
	ca, cb := decodePayload(t, a), decodePayload(t, b)
	for _, k := range []string{"sub", "client_id", "azp", "scope", "iss", "nonce"} {
		if ca[k] != cb[k] {
			t.Fatalf("claim %s differs: %v / %v", k, ca[k], cb[k])
		}
	}
	if strings.Join(audiences(ca["aud"]), " ") != strings.Join(audiences(cb["aud"]), " ") {
		t.Fatalf("aud differs: %v / %v", ca["aud"], cb["aud"])
	}
	ja, _ := ca["jti"].(string)
	jb, _ := cb["jti"].(string)
	if ja != "" && (ja == jb || familyOf(ja) != familyOf(jb)) {
		t.Fatalf("jti %q / %q: want two tokens of one family", ja, jb)
	}
}

func audiences(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, len(a))
		for i, s := range a {
			out[i], _ = s.(string)
		}
		return out
	}
	return nil
}

func familyOf(jti string) string { f, _, _ := strings.Cut(jti, "."); return f }

func TestRefreshRetry(t *testing.T) {
	f, clk, lost := retryFixture(t)
	b := f.browser(t)
	b.login(f, "alice")
	ctx := context.Background()
	cfg := f.oauth("bank-app")
	fresh := func() *oauth2.Token {
		code, v := f.codeFor(t, b, true, "read:balance", "offline_access")
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
		must(t, err)
		return tok
	}
	refreshAs := func(client, secret, rt string) (map[string]any, int) {
		resp, body := postForm(t, f.ts.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic(client, secret))
		return body, resp.StatusCode
	}
	refresh := func(rt string) (map[string]any, int) { return refreshAs("bank-app", f.bankSecret, rt) }
	active := func(tok string) bool {
		in, err := f.srv.Introspect(ctx, tok)
		must(t, err)
		return in.Active
	}
	t.Run("within the window the same answer", func(t *testing.T) {
		tok := fresh()
		first, code := refresh(tok.RefreshToken)
		if code != 200 {
			t.Fatalf("refresh: %d %v", code, first)
		}
		clk.Advance(9 * time.Second)
		again, code := refresh(tok.RefreshToken)
		if code != 200 || again["refresh_token"] != first["refresh_token"] {
			t.Fatalf("retry: %d %v, want the first answer's refresh token", code, again)
		}
		sameGrant(t, first["access_token"].(string), again["access_token"].(string))
		if !active(first["access_token"].(string)) {
			t.Fatal("the retry revoked the first answer")
		}
		if body, code := refresh(again["refresh_token"].(string)); code != 200 {
			t.Fatalf("the family does not continue after a retry: %d %v", code, body)
		}
	})
	t.Run("after the window a reuse", func(t *testing.T) {
		tok := fresh()
		first, _ := refresh(tok.RefreshToken)
		clk.Advance(10 * time.Second)
		if body, code := refresh(tok.RefreshToken); code != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("reuse after the window: %d %v", code, body)
		}
		if _, code := refresh(first["refresh_token"].(string)); code != 400 || active(first["access_token"].(string)) {
			t.Fatal("the family survived a reuse after the window")
		}
	})
	t.Run("after the successor was used a reuse", func(t *testing.T) {
		tok := fresh()
		first, _ := refresh(tok.RefreshToken)
		second, _ := refresh(first["refresh_token"].(string))
		if body, code := refresh(tok.RefreshToken); code != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("reuse of a token two rotations back: %d %v", code, body)
		}
		if _, code := refresh(second["refresh_token"].(string)); code != 400 {
			t.Fatal("the family survived the reuse")
		}
	})
	t.Run("another client gets nothing", func(t *testing.T) {
		tok := fresh()
		first, _ := refresh(tok.RefreshToken)
		other, err := f.srv.CreateClient(ctx, newConfidential("retry-other", bankCB))
		must(t, err)
		if body, code := refreshAs("retry-other", other, tok.RefreshToken); code != 400 || body["error"] != "invalid_grant" || body["refresh_token"] != nil {
			t.Fatalf("another client's retry: %d %v", code, body)
		}
		if body, code := refreshAs("retry-other", other, first["refresh_token"].(string)); code != 400 || body["refresh_token"] != nil {
			t.Fatalf("another client's refresh: %d %v", code, body)
		}
	})
	t.Run("the answer lost after the rotation", func(t *testing.T) {
		tok := fresh()
		lost.rotation.Store(true)
		if body, code := refresh(tok.RefreshToken); code != 503 {
			t.Fatalf("the lost answer: %d %v, want 503", code, body)
		}
		clk.Advance(2 * time.Second)
		again, code := refresh(tok.RefreshToken)
		if code != 200 {
			t.Fatalf("the retry after a 503 lost the grant: %d %v", code, again)
		}
		if body, code := refresh(again["refresh_token"].(string)); code != 200 {
			t.Fatalf("the retried token does not continue the family: %d %v", code, body)
		}
	})
	t.Run("concurrent refreshes by the client agree", func(t *testing.T) {
		tok := fresh()
		var mu sync.Mutex
		got := map[string]int{}
		oks := concurrently(20, func() error {
			body, code := refresh(tok.RefreshToken)
			if code == 200 {
				mu.Lock()
				got[body["refresh_token"].(string)]++
				mu.Unlock()
			}
			return nil
		})
		if oks != 20 || len(got) != 1 {
			t.Fatalf("concurrent refreshes of one token within the window: %d answers, %d distinct refresh tokens", oks, len(got))
		}
		for rt := range got {
			if body, code := refresh(rt); code != 200 {
				t.Fatalf("the family does not continue: %d %v", code, body)
			}
		}
	})
}

func TestCodeRetry(t *testing.T) {
	f, clk, lost := retryFixture(t)
	b := f.browser(t)
	b.login(f, "alice")
	ctx := context.Background()
	cfg := f.oauth("bank-app")
	scopes := []string{"openid", "read:balance", "offline_access"}
	exchange := func(code, verifier string) (*oauth2.Token, error) {
		return cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	}
	active := func(tok string) bool {
		in, err := f.srv.Introspect(ctx, tok)
		must(t, err)
		return in.Active
	}
	t.Run("within the window the same tokens", func(t *testing.T) {
		code, v := f.codeFor(t, b, true, scopes...)
		first, err := exchange(code, v)
		must(t, err)
		clk.Advance(9 * time.Second)
		again, err := exchange(code, v)
		if err != nil || again.RefreshToken != first.RefreshToken {
			t.Fatalf("retry: %v, refresh token equal %v", err, err == nil && again.RefreshToken == first.RefreshToken)
		}
		sameGrant(t, first.AccessToken, again.AccessToken)
		sameGrant(t, first.Extra("id_token").(string), again.Extra("id_token").(string))
		if !active(first.AccessToken) {
			t.Fatal("the retry revoked the first tokens")
		}
	})
	replays := map[string]func(t *testing.T, code, v string) error{
		"after the window": func(t *testing.T, code, v string) error {
			clk.Advance(10 * time.Second)
			_, err := exchange(code, v)
			return err
		},
		"with another verifier": func(t *testing.T, code, v string) error {
			_, err := exchange(code, oauth2.GenerateVerifier())
			return err
		},
		"by another client": func(t *testing.T, code, v string) error {
			other, err := f.srv.CreateClient(ctx, newConfidential("code-other", bankCB))
			must(t, err)
			c := *cfg
			c.ClientID, c.ClientSecret = "code-other", other
			_, err = c.Exchange(ctx, code, oauth2.VerifierOption(v))
			return err
		},
	}
	for name, replay := range replays {
		t.Run("a replay "+name, func(t *testing.T) {
			code, v := f.codeFor(t, b, true, scopes...)
			first, err := exchange(code, v)
			must(t, err)
			if err := replay(t, code, v); !isOAuthError(err, "invalid_grant") {
				t.Fatalf("replay: %v, want invalid_grant", err)
			}
			if active(first.AccessToken) {
				t.Fatal("the first tokens survived a replay")
			}
			if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
				t.Fatalf("the first refresh token survived a replay: %v", err)
			}
		})
	}
	t.Run("the answer lost after the code was consumed", func(t *testing.T) {
		code, v := f.codeFor(t, b, true, scopes...)
		lost.family.Store(true)
		if _, err := exchange(code, v); err == nil {
			t.Fatal("the lost answer was delivered")
		}
		clk.Advance(time.Second)
		tok, err := exchange(code, v)
		if err != nil {
			t.Fatalf("the retry after a 503 lost the grant: %v", err)
		}
		if !active(tok.AccessToken) {
			t.Fatal("the retried access token is not active")
		}
		if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
			t.Fatalf("the retried refresh token does not work: %v", err)
		}
	})
	t.Run("concurrent exchanges by the client agree", func(t *testing.T) {
		code, v := f.codeFor(t, b, true, scopes...)
		var mu sync.Mutex
		got := map[string]bool{}
		oks := concurrently(20, func() error {
			tok, err := exchange(code, v)
			if err == nil {
				mu.Lock()
				got[tok.RefreshToken] = true
				mu.Unlock()
			}
			return err
		})
		if oks == 0 || len(got) != 1 {
			t.Fatalf("%d concurrent exchanges succeeded with %d distinct refresh tokens", oks, len(got))
		}
	})
}

// TestRetrySecretAtRest: the retry secret is a store record wrapped by
// Config.KeyWrapper like the signing keys, never a signing key (not in the
// JWKS), shared by every server over the store (a retry at another server
// gets the same token), and re-wrapped by RewrapKeys.
func TestRetrySecretAtRest(t *testing.T) {
	wrapper := func(current byte, older ...byte) token.KeyWrapper {
		var old [][]byte
		for _, o := range older {
			old = append(old, bytes.Repeat([]byte{o}, 32))
		}
		w, err := token.NewAESKeyWrapper(bytes.Repeat([]byte{current}, 32), old...)
		must(t, err)
		return w
	}
	f := newUserFixture(t, func(c *authz.Config) { c.KeyWrapper = wrapper(1) })
	b := f.browser(t)
	b.login(f, "alice")
	ctx := context.Background()
	cfg := f.oauth("bank-app")
	code, v := f.codeFor(t, b, true, "read:balance", "offline_access")
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
	must(t, err)
	rec, err := f.store.Keys().Get(ctx, "retry-secret")
	must(t, err)
	if !token.IsWrappedJWK(rec.JWK) {
		t.Fatal("the retry secret is stored in clear with a KeyWrapper configured")
	}
	if bytes.Contains(f.srv.Keys().JWKS(), []byte("retry-secret")) {
		t.Fatal("the retry secret is published in the JWKS")
	}
	server := func(w token.KeyWrapper) *authz.Server {
		s, err := authz.New(ctx, authz.Config{Issuer: f.ts.URL + "/", Store: f.store, KeyWrapper: w,
			Grants: []authz.Grant{grant.AuthorizationCode{}, grant.RefreshToken{}}})
		must(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	refreshAt := func(s *authz.Server, rt string) (*authz.TokenResponse, error) {
		return s.Issue(ctx, &authz.TokenRequest{GrantType: "refresh_token", RefreshToken: rt,
			ClientID: "bank-app", ClientSecret: f.bankSecret, AuthMethod: oauth.AuthBasic})
	}
	first, err := refreshAt(f.srv, tok.RefreshToken)
	must(t, err)
	again, err := refreshAt(server(wrapper(1)), tok.RefreshToken)
	if err != nil || again.RefreshToken != first.RefreshToken {
		t.Fatalf("a retry at another server: %v", err)
	}
	// After RewrapKeys under a new wrapping key, a server holding only the
	// new one still derives the same tokens.
	if _, err := server(wrapper(2, 1)).RewrapKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if again, err := refreshAt(server(wrapper(2)), tok.RefreshToken); err != nil || again.RefreshToken != first.RefreshToken {
		t.Fatalf("a retry after the secret was rewrapped: %v", err)
	}
}
