package authz_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
)

var dpopCCForm = url.Values{"grant_type": {"client_credentials"}, "audience": {usersAPI}}

// TestDPoPClientCredentials: a proof binds the access token to its key
// (cnf.jkt, token_type DPoP); the token endpoint refuses a replayed or
// wrong proof; the resource accepts the token with the DPoP scheme and a
// fresh proof only, every time, cached or not.
func TestDPoPClientCredentials(t *testing.T) {
	f := newFixture(t)
	tokenURL := f.srv.Metadata().TokenEndpoint
	key := newDPoPKey(t)
	api := usersResource(t, f.srv)
	apiURL := api.URL + "/users"

	proof := key.proof(t, "POST", tokenURL, "", "", time.Now())
	resp, body := postForm(t, tokenURL, dpopCCForm, dpopHeader("reporter", f.secret, proof))
	if resp.StatusCode != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("token with a proof: %d %v", resp.StatusCode, body)
	}
	at := body["access_token"].(string)
	cnf, _ := decodePayload(t, at)["cnf"].(map[string]any)
	if cnf["jkt"] != key.jkt(t) {
		t.Fatalf("cnf = %v, want jkt %s", cnf, key.jkt(t))
	}
	in, err := f.srv.Introspect(context.Background(), at)
	must(t, err)
	if !in.Active || in.TokenType != "DPoP" || in.Confirmation == nil || in.Confirmation.JKT != key.jkt(t) {
		t.Fatalf("introspection %+v: want token_type DPoP and cnf.jkt (RFC 9449 §6.2)", in)
	}

	t.Run("token endpoint refusals", func(t *testing.T) {
		other := newDPoPKey(t)
		for _, tc := range []struct {
			name, proof string
		}{
			{"replayed proof", proof},
			{"wrong htm", key.proof(t, "GET", tokenURL, "", "", time.Now())},
			{"wrong htu", key.proof(t, "POST", f.http.URL+"/oauth/other", "", "", time.Now())},
			{"stale iat", key.proof(t, "POST", tokenURL, "", "", time.Now().Add(-2*time.Minute))},
			{"future iat", key.proof(t, "POST", tokenURL, "", "", time.Now().Add(2*time.Minute))},
			{"not a JWS", "a.b.c"},
			{"signature of another key", swapSignature(key.proof(t, "POST", tokenURL, "", "", time.Now()), other.proof(t, "POST", tokenURL, "", "", time.Now()))},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := postForm(t, tokenURL, dpopCCForm, dpopHeader("reporter", f.secret, tc.proof))
				if resp.StatusCode != 400 || body["error"] != "invalid_dpop_proof" {
					t.Fatalf("%d %v, want 400 invalid_dpop_proof", resp.StatusCode, body)
				}
			})
		}
		t.Run("two DPoP headers", func(t *testing.T) {
			h := dpopHeader("reporter", f.secret, key.proof(t, "POST", tokenURL, "", "", time.Now()))
			h.Add("DPoP", key.proof(t, "POST", tokenURL, "", "", time.Now()))
			if resp, body := postForm(t, tokenURL, dpopCCForm, h); resp.StatusCode != 400 || body["error"] != "invalid_dpop_proof" {
				t.Fatalf("%d %v", resp.StatusCode, body)
			}
		})
	})

	t.Run("replay, concurrently: one of N accepted", func(t *testing.T) {
		p := key.proof(t, "POST", tokenURL, "", "", time.Now())
		const n = 8
		var wg sync.WaitGroup
		codes := make([]int, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, _ := postForm(t, tokenURL, dpopCCForm, dpopHeader("reporter", f.secret, p))
				codes[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			if c == 200 {
				ok++
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d same-proof requests accepted: %v", ok, n, codes)
		}
	})

	t.Run("resource", func(t *testing.T) {
		good := key.proof(t, "GET", apiURL, at, "", time.Now())
		if resp := callResource(t, apiURL, "DPoP", at, good); resp.StatusCode != 204 {
			t.Fatalf("DPoP request: %d %v", resp.StatusCode, resp.Header)
		}
		// The token is cached now; its proof is still checked each time.
		if resp := callResource(t, apiURL, "DPoP", at, key.proof(t, "GET", apiURL, at, "", time.Now())); resp.StatusCode != 204 {
			t.Fatalf("second DPoP request: %d", resp.StatusCode)
		}
		other := newDPoPKey(t)
		unbound := f.issue(t, usersAPI).AccessToken
		for _, tc := range []struct {
			name, scheme, token, proof, wantErr string
		}{
			{"replayed proof (cached token)", "DPoP", at, good, "invalid_dpop_proof"},
			{"no proof", "DPoP", at, "", "invalid_dpop_proof"},
			{"wrong ath", "DPoP", at, key.proof(t, "GET", apiURL, unbound, "", time.Now()), "invalid_dpop_proof"},
			{"no ath", "DPoP", at, key.proof(t, "GET", apiURL, "", "", time.Now()), "invalid_dpop_proof"},
			{"key not the token's", "DPoP", at, other.proof(t, "GET", apiURL, at, "", time.Now()), "invalid_dpop_proof"},
			{"wrong htm", "DPoP", at, key.proof(t, "POST", apiURL, at, "", time.Now()), "invalid_dpop_proof"},
			{"wrong htu", "DPoP", at, key.proof(t, "GET", api.URL+"/other", at, "", time.Now()), "invalid_dpop_proof"},
			{"stale proof", "DPoP", at, key.proof(t, "GET", apiURL, at, "", time.Now().Add(-2*time.Minute)), "invalid_dpop_proof"},
			{"bound token as Bearer", "Bearer", at, "", "invalid_token"},
			{"bound token as Bearer with a proof", "Bearer", at, key.proof(t, "GET", apiURL, at, "", time.Now()), "invalid_token"},
			{"bearer token with the DPoP scheme", "DPoP", unbound, key.proof(t, "GET", apiURL, unbound, "", time.Now()), "invalid_token"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp := callResource(t, apiURL, tc.scheme, tc.token, tc.proof)
				wa := strings.Join(resp.Header.Values("WWW-Authenticate"), "; ")
				if resp.StatusCode != 401 || !strings.Contains(wa, `error="`+tc.wantErr+`"`) {
					t.Fatalf("%d %q, want 401 %s", resp.StatusCode, wa, tc.wantErr)
				}
				if tc.scheme == "DPoP" && !strings.HasPrefix(wa, "DPoP ") || tc.scheme == "DPoP" && !strings.Contains(wa, `algs="ES256`) {
					t.Fatalf("challenge %q: want the DPoP scheme with algs (RFC 9449 §7.1)", wa)
				}
			})
		}
		if resp := callResource(t, apiURL, "Bearer", unbound, ""); resp.StatusCode != 204 {
			t.Fatalf("an unbound bearer token: %d", resp.StatusCode)
		}
		req, _ := http.NewRequest("GET", apiURL, nil)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if got := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 401 || len(got) != 2 || !strings.HasPrefix(got[1], "DPoP ") {
			t.Fatalf("no token: %d %q, want a Bearer and a DPoP challenge", resp.StatusCode, got)
		}
	})

	t.Run("behind a proxy: the public URL base", func(t *testing.T) {
		a := f.srv.Authorizer(usersAPI).WithDPoPBaseURL("https://api.example.com/v1/")
		ts := httptestServer(t, a.RequireScopes("read:users")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		})))
		if resp := callResource(t, ts.URL+"/users", "DPoP", at, key.proof(t, "GET", "https://api.example.com/v1/users", at, "", time.Now())); resp.StatusCode != 204 {
			t.Fatalf("proof for the public URL: %d", resp.StatusCode)
		}
		if resp := callResource(t, ts.URL+"/users", "DPoP", at, key.proof(t, "GET", ts.URL+"/users", at, "", time.Now())); resp.StatusCode != 401 {
			t.Fatalf("proof for the internal URL: %d, want 401", resp.StatusCode)
		}
	})

	t.Run("discovery", func(t *testing.T) {
		if got := f.srv.Metadata().DPoPSigningAlgValuesSupported; strings.Join(got, " ") != "ES256 EdDSA PS256 RS256" {
			t.Fatalf("dpop_signing_alg_values_supported = %v", got)
		}
	})
}

// TestDPoPRequired: a client or an API requiring DPoP refuses a token
// request without a proof, and accepts one with it.
func TestDPoPRequired(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tokenURL := f.srv.Metadata().TokenEndpoint
	key := newDPoPKey(t)
	secret, err := f.srv.CreateClient(ctx, &storage.Client{ID: "bound", Name: "Bound", GrantTypes: []string{"client_credentials"}, RequireDPoP: true})
	must(t, err)
	must(t, f.store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "bound", Audience: usersAPI, Scopes: []string{"read:users"}}))
	const strict = "https://strict.example.com"
	must(t, f.store.APIs().Create(ctx, &storage.API{Identifier: strict, Name: "strict", RequireDPoP: true, Scopes: []storage.Scope{{Name: "read"}}}))
	must(t, f.store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "reporter", Audience: strict, Scopes: []string{"read"}}))
	strictForm := url.Values{"grant_type": {"client_credentials"}, "audience": {strict}}

	for _, tc := range []struct {
		name, id, secret string
		form             url.Values
	}{
		{"client", "bound", secret, dpopCCForm},
		{"API", "reporter", f.secret, strictForm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := postForm(t, tokenURL, tc.form, basic(tc.id, tc.secret))
			if resp.StatusCode != 400 || body["error"] != "invalid_dpop_proof" {
				t.Fatalf("without a proof: %d %v", resp.StatusCode, body)
			}
			resp, body = postForm(t, tokenURL, tc.form, dpopHeader(tc.id, tc.secret, key.proof(t, "POST", tokenURL, "", "", time.Now())))
			if resp.StatusCode != 200 || body["token_type"] != "DPoP" {
				t.Fatalf("with a proof: %d %v", resp.StatusCode, body)
			}
		})
	}
}

// TestDPoPNonce: with Config.DPoPNonce a proof without the server's nonce
// is use_dpop_nonce with a DPoP-Nonce header; with it, the request passes;
// the nonce rotates on the clock.
func TestDPoPNonce(t *testing.T) {
	clk := &clock{t: time.Now().Truncate(time.Second)}
	f := newFixture(t, func(c *authz.Config) { c.DPoPNonce, c.Now = true, clk.Now })
	tokenURL := f.srv.Metadata().TokenEndpoint
	key := newDPoPKey(t)
	resp, body := postForm(t, tokenURL, dpopCCForm, dpopHeader("reporter", f.secret, key.proof(t, "POST", tokenURL, "", "", clk.Now())))
	nonce := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != 400 || body["error"] != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("without a nonce: %d %v nonce %q", resp.StatusCode, body, nonce)
	}
	resp, body = postForm(t, tokenURL, dpopCCForm, dpopHeader("reporter", f.secret, key.proof(t, "POST", tokenURL, "", nonce, clk.Now())))
	if resp.StatusCode != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("with the nonce: %d %v", resp.StatusCode, body)
	}
	clk.t = clk.t.Add(11 * time.Minute)
	resp, body = postForm(t, tokenURL, dpopCCForm, dpopHeader("reporter", f.secret, key.proof(t, "POST", tokenURL, "", nonce, clk.Now())))
	if resp.StatusCode != 400 || body["error"] != "use_dpop_nonce" || resp.Header.Get("DPoP-Nonce") == nonce {
		t.Fatalf("a stale nonce: %d %v", resp.StatusCode, body)
	}
}

// TestDPoPPublicRefresh: a public client's refresh token is bound to the
// key of the proof it was issued with: a refresh without a proof or with
// another key is refused (nothing rotated), a retry within the grace
// window with another key is reuse (the family is revoked). A
// confidential client's refresh tokens are not bound.
func TestDPoPPublicRefresh(t *testing.T) {
	f := newUserFixture(t)
	tokenURL := f.srv.Metadata().TokenEndpoint
	key, thief := newDPoPKey(t), newDPoPKey(t)
	b := f.browser(t)
	b.login(f, "alice")
	exchange := func(client string, header http.Header) map[string]any {
		cfg := f.oauth(client)
		cfg.Scopes = []string{"view:events", "read:balance", "offline_access"}
		v := oauth2.GenerateVerifier()
		cb := f.authorize(t, b, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("audience", audienceOf(client))), "alice", "read:balance", "offline_access")
		form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {cfg.RedirectURL}, "code_verifier": {v}}
		if client == "events-app" {
			form.Set("client_id", client)
		}
		resp, body := postForm(t, tokenURL, form, header)
		if resp.StatusCode != 200 || body["token_type"] != "DPoP" || body["refresh_token"] == nil {
			t.Fatalf("exchange: %d %v", resp.StatusCode, body)
		}
		return body
	}
	refresh := func(rt string, k *dpopKey) (int, map[string]any) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"events-app"}}
		h := http.Header{}
		if k != nil {
			h.Set("DPoP", k.proof(t, "POST", tokenURL, "", "", time.Now()))
		}
		resp, body := postForm(t, tokenURL, form, h)
		return resp.StatusCode, body
	}
	tok := exchange("events-app", dpopHeader("", "", key.proof(t, "POST", tokenURL, "", "", time.Now())))
	rt := tok["refresh_token"].(string)
	if in, err := f.srv.Introspect(context.Background(), rt); err != nil || in.Confirmation == nil || in.Confirmation.JKT != key.jkt(t) {
		t.Fatalf("refresh token introspection %+v, %v: want its binding", in, err)
	}
	if code, body := refresh(rt, nil); code != 400 || body["error"] != "invalid_dpop_proof" {
		t.Fatalf("refresh without a proof: %d %v", code, body)
	}
	if code, body := refresh(rt, thief); code != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("refresh with another key: %d %v", code, body)
	}
	code, first := refresh(rt, key)
	if code != 200 || first["token_type"] != "DPoP" {
		t.Fatalf("refresh with the key: %d %v", code, first)
	}
	if cnf, _ := decodePayload(t, first["access_token"].(string))["cnf"].(map[string]any); cnf["jkt"] != key.jkt(t) {
		t.Fatalf("refreshed token cnf = %v", cnf)
	}
	next := first["refresh_token"].(string)
	if code, body := refresh(next, thief); code != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("the successor with another key: %d %v", code, body)
	}
	// A retry of the rotated token within the window: with the same key,
	// the first answer; with another key, reuse.
	if code, again := refresh(rt, key); code != 200 || again["refresh_token"] != next {
		t.Fatalf("retry with the key: %d %v", code, again)
	}
	if code, body := refresh(rt, thief); code != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("retry with another key: %d %v", code, body)
	}
	if code, body := refresh(next, key); code != 400 {
		t.Fatalf("the family survived a retry with another key: %d %v", code, body)
	}

	t.Run("confidential client not bound", func(t *testing.T) {
		tok := exchange("bank-app", dpopHeader("bank-app", f.bankSecret, key.proof(t, "POST", tokenURL, "", "", time.Now())))
		resp, body := postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, basic("bank-app", f.bankSecret))
		if resp.StatusCode != 200 || body["token_type"] != "Bearer" {
			t.Fatalf("confidential refresh without a proof: %d %v", resp.StatusCode, body)
		}
	})
}

// TestDPoPImplicitRefused: /authorize issues no access token (a bearer
// token) for an API that requires DPoP.
func TestDPoPImplicitRefused(t *testing.T) {
	f := newUserFixture(t, func(c *authz.Config) { c.ImplicitFlow = true })
	ctx := context.Background()
	const strict = "https://strict-events.example.com"
	must(t, f.store.APIs().Create(ctx, &storage.API{Identifier: strict, Name: "strict", RequireDPoP: true, AllowSkipConsent: true,
		Scopes: []storage.Scope{{Name: "view:events"}}}))
	_, err := f.srv.CreateClient(ctx, &storage.Client{ID: "spa", Public: true, FirstParty: true, RedirectURIs: []string{spaCB},
		GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"id_token token"}})
	must(t, err)
	b := f.browser(t)
	b.login(f, "alice")
	for _, tc := range []struct{ aud, want string }{{strict, "error=invalid_request"}, {eventsAPI, "access_token="}} {
		cb := b.get(f.ts.URL + "/authorize?client_id=spa&response_type=id_token%20token&scope=openid%20view:events&nonce=n1&state=s&audience=" +
			url.QueryEscape(tc.aud) + "&redirect_uri=" + url.QueryEscape(spaCB))
		if cb == nil || !strings.Contains(cb.Fragment, tc.want) {
			t.Fatalf("implicit for %s: %v, want %s", tc.aud, cb, tc.want)
		}
	}
}
