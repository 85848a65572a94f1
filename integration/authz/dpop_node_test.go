package authz_test

import (
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/scopekit/scopekit/authz"
)

// nodeDPoPClient is a Node program using oauth4webapi (panva): it reads the
// issuer's RFC 8414 metadata, gets a DPoP-bound token by client
// credentials (retrying once when told use_dpop_nonce, with the nonce it
// was sent), then calls the protected resource with the token and a fresh
// proof, and prints what happened.
const nodeDPoPClient = `
import * as oauth from 'oauth4webapi';
const [issuer, clientId, secret, audience, api] = process.argv.slice(2);
const insecure = { [oauth.allowInsecureRequests]: true };
const as = await oauth.processDiscoveryResponse(new URL(issuer),
  await oauth.discoveryRequest(new URL(issuer), { ...insecure, algorithm: 'oauth2' }));
const client = { client_id: clientId };
const auth = oauth.ClientSecretBasic(secret);
const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
const grant = async () => oauth.processClientCredentialsResponse(as, client,
  await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams({ audience }), { ...insecure, DPoP }));
let tok, nonceRetry = false;
try { tok = await grant(); } catch (e) {
  if (!oauth.isDPoPNonceError(e)) throw e;
  nonceRetry = true;
  tok = await grant();
}
const res = await oauth.protectedResourceRequest(tok.access_token, 'GET', new URL(api), undefined, undefined, { ...insecure, DPoP });
console.log(JSON.stringify({ token_type: tok.token_type, nonce_retry: nonceRetry, status: res.status, access_token: tok.access_token }));
`

// installOAuth4WebAPI installs oauth4webapi with the DPoP client program.
func installOAuth4WebAPI(t *testing.T) string {
	t.Helper()
	return installNodePackage(t, "oauth4webapi@3", map[string]string{"client.mjs": nodeDPoPClient})
}

// TestDPoPNodeOAuth4WebAPI: oauth4webapi's DPoP client gets a DPoP-bound
// token over HTTP from an issuer requiring nonces, and calls a protected
// resource with it; the same token as a bearer token is refused.
func TestDPoPNodeOAuth4WebAPI(t *testing.T) {
	dir := installOAuth4WebAPI(t)
	f := newFixture(t, func(c *authz.Config) { c.DPoPNonce = true })
	api := usersResource(t, f.srv)
	cmd := exec.Command("node", "client.mjs", f.srv.Issuer(), "reporter", f.secret, usersAPI, api.URL+"/users")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("node: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("node: %v", err)
	}
	var got struct {
		TokenType   string `json:"token_type"`
		NonceRetry  bool   `json:"nonce_retry"`
		Status      int    `json:"status"`
		AccessToken string `json:"access_token"`
	}
	must(t, json.Unmarshal(out, &got))
	if got.TokenType != "dpop" || !got.NonceRetry || got.Status != 204 {
		t.Fatalf("oauth4webapi: %+v, want a DPoP token after a nonce retry and a 204 from the resource", got)
	}
	if cnf, _ := decodePayload(t, got.AccessToken)["cnf"].(map[string]any); cnf["jkt"] == nil {
		t.Fatalf("the token is not bound: cnf = %v", cnf)
	}
	if resp := callResource(t, api.URL+"/users", "Bearer", got.AccessToken, ""); resp.StatusCode != 401 {
		t.Fatalf("the bound token as a bearer token: %d, want 401", resp.StatusCode)
	}
}
