package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/bench/internal/peers"
)

// TestPeersAnswerOverHTTP keeps the load table about success paths: every
// implementation, served over loopback as the tool serves it, answers the
// measured request with a token of scopekit's header and claim set signed
// by the shared key (peers.CheckToken), and refuses a scope outside the
// client's grant (or leaves it out of the token), so that no row measures an issuer granting whatever is
// asked.
func TestPeersAnswerOverHTTP(t *testing.T) {
	ctx := context.Background()
	e := &env{nodeDir: "../../node"}
	defer e.close()
	for _, alg := range peers.Algs {
		k, err := peers.NewKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		for _, impl := range impls {
			t.Run(alg+"/"+impl, func(t *testing.T) {
				tg, err := e.start(ctx, impl, k)
				if errors.Is(err, peers.ErrNodeMissing) {
					t.Skip(err)
				}
				if err != nil {
					t.Fatal(err)
				}
				defer tg.close()
				client := keepAlive(1)
				raw, err := fetchToken(client, tg)
				if err != nil {
					t.Fatal(err)
				}
				if err := peers.CheckToken(raw, k, peers.DeviationOf(impl)); err != nil {
					t.Error(err)
				}
				form, _ := url.ParseQuery(tg.form)
				form.Set("scope", "read admin")
				req, _ := http.NewRequest("POST", tg.url, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(peers.ClientID, peers.ClientSecret)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return // refused, as scopekit refuses (invalid_scope)
				}
				// RFC 6749 §3.3 lets an issuer narrow the scope instead, as
				// node-oidc-provider does: the token must then lack admin.
				var tr tokenResponse
				if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
					t.Fatal(err)
				}
				var claims struct {
					Scope string `json:"scope"`
				}
				payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tr.AccessToken, ".")[1])
				if err != nil || json.Unmarshal(payload, &claims) != nil {
					t.Fatalf("undecodable token %q", tr.AccessToken)
				}
				if slices.Contains(strings.Fields(claims.Scope), "admin") {
					t.Errorf("a token for the ungranted scope admin: scope %q", claims.Scope)
				}
			})
		}
	}
}
