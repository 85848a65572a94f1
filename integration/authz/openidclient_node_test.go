package authz_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
)

// nodeDeviceClient is a Node program using openid-client (panva, v6) as a
// public device client: it discovers the issuer (OpenID Connect discovery),
// starts a device authorization (RFC 8628 §3.1), prints the answer, polls
// the token endpoint until the user has decided, and prints the tokens.
const nodeDeviceClient = `
import * as client from 'openid-client';
const [issuer, clientId, scope, audience] = process.argv.slice(2);
const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(),
  { execute: [client.allowInsecureRequests] });
const da = await client.initiateDeviceAuthorization(config, { scope, audience });
console.log(JSON.stringify(da));
const tok = await client.pollDeviceAuthorizationGrant(config, da);
console.log(JSON.stringify({ ...tok, id_token_claims: tok.claims() }));
`

// nodeLogoutURL is a Node program using openid-client (panva, v6) as a
// confidential relying party: it discovers the issuer and prints the
// RP-initiated logout URL (OpenID Connect RP-Initiated Logout 1.0 §2) for
// the ID token, post-logout redirect URI and state.
const nodeLogoutURL = `
import * as client from 'openid-client';
const [issuer, clientId, secret, idToken, after, state] = process.argv.slice(2);
const config = await client.discovery(new URL(issuer), clientId, secret, undefined,
  { execute: [client.allowInsecureRequests] });
console.log(client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: after, state }).href);
`

// installOpenIDClient installs openid-client with the two programs.
func installOpenIDClient(t *testing.T) string {
	t.Helper()
	return installNodePackage(t, "openid-client@6", map[string]string{"device.mjs": nodeDeviceClient, "logout.mjs": nodeLogoutURL})
}

// TestOpenIDClientNode runs openid-client on Node against the issuer over
// HTTP, unchanged: the device flow ends with tokens the issuer's
// authorizer accepts, and the logout URL it builds ends the session and
// redirects to the registered post-logout URI with the state.
func TestOpenIDClientNode(t *testing.T) {
	dir := installOpenIDClient(t)
	t.Run("device flow", func(t *testing.T) {
		f := newDeviceFixture(t, false)
		cmd := exec.Command("node", "device.mjs", f.srv.Issuer(), "tv-app", "openid create:events view:events offline_access", eventsAPI)
		cmd.Dir = dir
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		must(t, err)
		must(t, cmd.Start())
		lines := bufio.NewScanner(stdout)
		lines.Buffer(make([]byte, 0, 64<<10), 1<<20)
		next := func() []byte {
			if !lines.Scan() {
				_ = cmd.Wait()
				t.Fatalf("node ended early: %v\n%s", lines.Err(), stderr.String())
			}
			return lines.Bytes()
		}
		var da struct {
			UserCode                string `json:"user_code"`
			VerificationURIComplete string `json:"verification_uri_complete"`
		}
		must(t, json.Unmarshal(next(), &da))
		if da.UserCode == "" || !strings.HasPrefix(da.VerificationURIComplete, f.ts.URL+"/device?") {
			t.Fatalf("device authorization %+v", da)
		}
		if page := f.verify(t, f.browser(t), da.VerificationURIComplete, "", "alice", "allow", nil); !strings.Contains(page, "Device connected") {
			t.Fatalf("approval page %q", page)
		}
		var tok struct {
			AccessToken   string         `json:"access_token"`
			TokenType     string         `json:"token_type"`
			Scope         string         `json:"scope"`
			RefreshToken  string         `json:"refresh_token"`
			IDTokenClaims map[string]any `json:"id_token_claims"`
		}
		must(t, json.Unmarshal(next(), &tok))
		if err := cmd.Wait(); err != nil {
			t.Fatalf("node: %v\n%s", err, stderr.String())
		}
		// alice is an organizer: RBAC keeps create:events and drops view:events.
		const want = "openid create:events offline_access"
		if !strings.EqualFold(tok.TokenType, "bearer") || tok.Scope != want || tok.RefreshToken == "" ||
			tok.IDTokenClaims["sub"] != "alice" || tok.IDTokenClaims["aud"] != "tv-app" {
			t.Fatalf("token response %+v", tok)
		}
		p, err := f.srv.Authorizer(eventsAPI).Authorize(context.Background(), tok.AccessToken, resource.Requirement{AllOf: []string{"create:events"}})
		if err != nil || p.Subject != "alice" || p.ClientID != "tv-app" || p.Scope != want {
			t.Fatalf("authorizer: %+v %v", p, err)
		}
	})
	t.Run("logout", func(t *testing.T) {
		f := newLogoutFixture(t)
		ctx := context.Background()
		b := f.browser(t)
		b.login(f.userFixture, "alice")
		raw, claims := idTokenClaims(t, f.signIn(t, b, "alice"))
		sid, _ := claims["sid"].(string)
		out := strings.TrimSpace(runNode(t, dir, "logout.mjs", f.srv.Issuer(), "rp", f.rpSecret, raw, rpAfterLogout, "af0ifjsldkj"))
		u, err := url.Parse(out)
		must(t, err)
		if u.Scheme+"://"+u.Host+u.Path != f.srv.Metadata().EndSessionEndpoint || u.Query().Get("client_id") != "rp" {
			t.Fatalf("end session URL %q", out)
		}
		loc := b.get(out)
		if loc == nil || loc.Scheme+"://"+loc.Host+loc.Path != rpAfterLogout || loc.Query().Get("state") != "af0ifjsldkj" {
			t.Fatalf("logout answered %v %d %q", loc, b.last.StatusCode, b.body)
		}
		if got := f.endedUsers(); len(got) != 1 || got[0] != "alice" {
			t.Fatalf("host EndSession calls %v", got)
		}
		if _, err := f.store.GetSession(ctx, sid); sid == "" || !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("session %q after logout: %v", sid, err)
		}
	})
}
