package authz_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"golang.org/x/oauth2"
)

// TestCodeExpiresOnServerClock: the store judges a code's expiry by
// Config.Now, not the wall clock: with the server's clock 61 s past the
// creation of a 60 s code, the exchange is invalid_grant.
func TestCodeExpiresOnServerClock(t *testing.T) {
	clk := newTestClock()
	f := newUserFixture(t, withClock(clk))
	b := f.browser(t)
	b.login(f, "alice")
	ctx := context.Background()
	cfg := f.oauth("bank-app")

	code, v := f.codeFor(t, b, true, "read:balance")
	clk.add(59 * time.Second)
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err != nil {
		t.Fatalf("a code 59 s old on the server's clock: %v", err)
	}
	code, v = f.codeFor(t, b, true, "read:balance")
	clk.add(61 * time.Second)
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("a code 61 s old on the server's clock was redeemed: %v", err)
	}
}

// TestLateCodeReplayRevokesTokens: a code replayed after its lifetime, while
// the tokens issued from it live, is invalid_grant and revokes them (RFC
// 6749 §4.1.2), as a replay within its lifetime does.
func TestLateCodeReplayRevokesTokens(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scopes []string
	}{
		{"with a refresh token", []string{"read:balance", "offline_access"}},
		{"access token only", []string{"read:balance"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newTestClock()
			f := newUserFixture(t, withClock(clk))
			b := f.browser(t)
			b.login(f, "alice")
			ctx := context.Background()
			cfg := f.oauth("bank-app")
			code, v := f.codeFor(t, b, true, tc.scopes...)
			tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			clk.add(10 * time.Minute) // the code is long dead; its tokens are not
			if _, err := f.srv.Authorizer(bankUserAPI).Authorize(ctx, tok.AccessToken, resource.Requirement{}); err != nil {
				t.Fatalf("access token before the replay: %v", err)
			}
			if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); !isOAuthError(err, "invalid_grant") {
				t.Fatalf("late replay: %v", err)
			}
			if _, err := f.srv.Authorizer(bankUserAPI).Authorize(ctx, tok.AccessToken, resource.Requirement{}); !errors.Is(err, oauth.ErrInvalidToken) {
				t.Fatalf("access token from a late-replayed code still valid: %v", err)
			}
			if tok.RefreshToken == "" {
				return
			}
			if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
				t.Fatalf("refresh token from a late-replayed code still valid: %v", err)
			}
		})
	}
}
