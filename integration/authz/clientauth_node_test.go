package authz_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// nodeSigner is a Node program using the jose package (panva/jose): it
// generates a key pair for the algorithm, prints the public JWK, then reads
// claim sets from stdin, one JSON line each, and prints each signed.
const nodeSigner = `
import * as jose from 'jose';
import * as readline from 'node:readline';
const alg = process.argv[2];
const { publicKey, privateKey } = await jose.generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
const jwk = await jose.exportJWK(publicKey);
console.log(JSON.stringify({ ...jwk, kid: 'node-' + alg, alg }));
for await (const line of readline.createInterface({ input: process.stdin })) {
  const claims = JSON.parse(line);
  console.log(await new jose.SignJWT(claims).setProtectedHeader({ alg, kid: 'node-' + alg, typ: 'JWT' }).sign(privateKey));
}
`

// installJose installs jose (panva/jose) with the signer program.
func installJose(t *testing.T) string {
	t.Helper()
	return installNodePackage(t, "jose@6", map[string]string{"sign.mjs": nodeSigner})
}

// TestPrivateKeyJWTNodeJose authenticates with assertions signed by jose on
// Node for each algorithm; a replayed one and one with a foreign audience
// are refused.
func TestPrivateKeyJWTNodeJose(t *testing.T) {
	dir := installJose(t)
	c := newPKFixture(t)
	ctx := context.Background()
	for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			// The claim sets, made now, signed by Node in one run.
			id := "node-" + strings.ToLower(alg)
			now := c.clock.Now()
			claims := func(aud string) string {
				b, _ := json.Marshal(map[string]any{"iss": id, "sub": id, "aud": aud, "iat": now.Unix(),
					"exp": now.Add(time.Minute).Unix(), "jti": "jti-" + alg + "-" + aud})
				return string(b)
			}
			md := c.f.srv.Metadata()
			cmd := exec.Command("node", "sign.mjs", alg)
			cmd.Dir = dir
			cmd.Stdin = strings.NewReader(claims(md.Issuer) + "\n" + claims("https://elsewhere.example.com/") + "\n")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("node: %v", err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != 3 {
				t.Fatalf("node printed %q", out)
			}
			jwks := `{"keys":[` + lines[0] + `]}`
			_, err = c.f.srv.CreateClient(ctx, &storage.Client{ID: id, GrantTypes: []string{"client_credentials"},
				AuthMethod: oauth.AuthPrivateKeyJWT, JWKS: json.RawMessage(jwks)})
			must(t, err)
			must(t, c.f.store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: id, Audience: usersAPI, Scopes: []string{"read:users"}}))
			form := url.Values{"grant_type": {"client_credentials"}, "audience": {usersAPI}}
			resp, body := postForm(t, md.TokenEndpoint, withAssertion(form, lines[1]), nil)
			if resp.StatusCode != 200 || body["access_token"] == nil {
				t.Fatalf("jose assertion: %d %v", resp.StatusCode, body)
			}
			if resp, body := postForm(t, md.TokenEndpoint, withAssertion(form, lines[1]), nil); resp.StatusCode != 401 {
				t.Fatalf("replayed jose assertion: %d %v", resp.StatusCode, body)
			}
			if resp, body := postForm(t, md.TokenEndpoint, withAssertion(form, lines[2]), nil); resp.StatusCode != 401 {
				t.Fatalf("jose assertion for another audience: %d %v", resp.StatusCode, body)
			}
		})
	}
}
