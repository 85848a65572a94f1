package authz_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/event"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
)

const ledgerAPI = "https://ledger.example.com"

// exchangeFixture is the user fixture with token exchange: the ledger API
// accepts bank tokens exchanged by the "gateway" client, for read:balance
// and transfer:funds at most; "intruder" may use the grant but is not in
// the ledger's policy.
type exchangeFixture struct {
	*userFixture
	gatewaySecret, intruderSecret string
	seen                          []authz.Transaction
}

func newExchangeFixture(t *testing.T, mutate ...func(*authz.Config)) *exchangeFixture {
	t.Helper()
	x := &exchangeFixture{}
	record := authz.Rule{Name: "record", Run: func(_ context.Context, tx *authz.Transaction) error {
		x.seen = append(x.seen, *tx)
		return nil
	}}
	mutate = append([]func(*authz.Config){func(c *authz.Config) {
		c.Grants = []authz.Grant{grant.AuthorizationCode{}, grant.RefreshToken{}, grant.ClientCredentials{}, grant.TokenExchange{}}
		c.Rules = []authz.Rule{record}
	}}, mutate...)
	x.userFixture = newUserFixture(t, mutate...)
	ctx := context.Background()
	must(t, x.store.APIs().Create(ctx, &storage.API{Identifier: ledgerAPI, Name: "Ledger",
		Scopes: []storage.Scope{{Name: "read:balance"}, {Name: "transfer:funds"}, {Name: "audit:ledger"}, {Name: "read:users"}},
		TokenExchange: &storage.ExchangePolicy{
			Clients: []string{"gateway"}, SubjectAudiences: []string{bankUserAPI},
			Scopes: []string{"read:balance", "transfer:funds", "read:users"},
		}}))
	var err error
	x.gatewaySecret, err = x.srv.CreateClient(ctx, &storage.Client{ID: "gateway", Name: "Gateway",
		GrantTypes: []string{oauth.GrantTokenExchange, "client_credentials"}})
	must(t, err)
	must(t, x.store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "gateway", Audience: bankUserAPI, Scopes: []string{"read:balance"}}))
	x.intruderSecret, err = x.srv.CreateClient(ctx, &storage.Client{ID: "intruder", Name: "Intruder",
		GrantTypes: []string{oauth.GrantTokenExchange}})
	must(t, err)
	return x
}

// aliceBank is alice's access and refresh token for the bank API.
func (x *exchangeFixture) aliceBank(t *testing.T, scopes ...string) (access, refresh string) {
	t.Helper()
	tok := x.exchange(t, "bank-app", "alice", append(scopes, "offline_access"), append(scopes, "offline_access")...)
	return tok.AccessToken, tok.RefreshToken
}

// post posts a token-exchange request of client with the form's
// parameters (subject_token_type defaults to an access token).
func (x *exchangeFixture) post(t *testing.T, client string, form url.Values) (int, map[string]any) {
	t.Helper()
	form.Set("grant_type", oauth.GrantTokenExchange)
	if form.Has("subject_token") && !form.Has("subject_token_type") {
		form.Set("subject_token_type", authz.TokenTypeAccessToken)
	}
	secret := map[string]string{"gateway": x.gatewaySecret, "intruder": x.intruderSecret, "bank-app": x.bankSecret}[client]
	resp, body := postForm(t, x.ts.URL+"/oauth/token", form, basic(client, secret))
	return resp.StatusCode, body
}

func (x *exchangeFixture) gatewayToken(t *testing.T) string {
	t.Helper()
	resp, body := postForm(t, x.ts.URL+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "audience": {bankUserAPI}},
		basic("gateway", x.gatewaySecret))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("client credentials: %d %v", resp.StatusCode, body)
	}
	return body["access_token"].(string)
}

func wantOAuthError(t *testing.T, status int, body map[string]any, wantStatus int, code string) {
	t.Helper()
	if status != wantStatus || body["error"] != code {
		t.Fatalf("got %d %v, want %d %s", status, body, wantStatus, code)
	}
}

// TestTokenExchangeImpersonation: the gateway exchanges alice's bank token
// for a ledger token in her name, no wider than her token, no refresh
// token, and the ledger accepts it.
func TestTokenExchangeImpersonation(t *testing.T) {
	x := newExchangeFixture(t)
	subject, _ := x.aliceBank(t, "read:balance")
	status, body := x.post(t, "gateway", url.Values{"subject_token": {subject}, "audience": {ledgerAPI}})
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, body)
	}
	if body["issued_token_type"] != authz.TokenTypeAccessToken || body["token_type"] != "Bearer" || body["refresh_token"] != nil {
		t.Fatalf("response %v (RFC 8693 §2.2.1)", body)
	}
	tok := body["access_token"].(string)
	claims := decodePayload(t, tok)
	sub := decodePayload(t, subject)
	if claims["sub"] != "alice" || claims["client_id"] != "gateway" || claims["aud"] != ledgerAPI ||
		claims["scope"] != "read:balance" || claims["act"] != nil || claims["gty"] != "token-exchange" {
		t.Fatalf("claims %v", claims)
	}
	if claims["exp"].(float64) > sub["exp"].(float64) {
		t.Fatalf("exchanged token outlives its subject: %v > %v", claims["exp"], sub["exp"])
	}
	p, err := x.srv.Authorizer(ledgerAPI).Authorize(context.Background(), tok, resource.Requirement{AllOf: []string{"read:balance"}})
	if err != nil || p.Subject != "alice" {
		t.Fatalf("ledger: %v %v", p, err)
	}
	// Rules saw the exchange.
	last := x.seen[len(x.seen)-1]
	if last.Trigger != authz.TriggerTokenExchange || last.SubjectToken == nil || last.SubjectToken.Subject != "alice" ||
		last.SubjectToken.ClientID != "bank-app" || last.ActorToken != nil || last.User == nil || last.User.ID != "alice" {
		t.Fatalf("rule saw %+v", last)
	}

	t.Run("revoking the subject's family revokes the exchanged token", func(t *testing.T) {
		subject, refresh := x.aliceBank(t, "read:balance")
		_, body := x.post(t, "gateway", url.Values{"subject_token": {subject}, "audience": {ledgerAPI}})
		tok := body["access_token"].(string)
		must(t, x.srv.Revoke(context.Background(), "bank-app", refresh))
		if _, err := x.srv.Authorizer(ledgerAPI).Authorize(context.Background(), tok, resource.Requirement{}); err == nil {
			t.Fatal("an exchanged token outlived its family's revocation")
		}
	})
}

// TestTokenExchangeDelegation: with an actor token the new token names the
// actor in "act", nested when the actor token was delegated itself.
func TestTokenExchangeDelegation(t *testing.T) {
	rec := &recorder{}
	x := newExchangeFixture(t, func(c *authz.Config) { c.EventHooks = []event.Hook{rec.hook} })
	subject, _ := x.aliceBank(t, "read:balance", "transfer:funds")
	actor := x.gatewayToken(t)
	status, body := x.post(t, "gateway", url.Values{"subject_token": {subject}, "resource": {ledgerAPI}, "scope": {"read:balance"},
		"actor_token": {actor}, "actor_token_type": {authz.TokenTypeAccessToken}})
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, body)
	}
	delegated := body["access_token"].(string)
	claims := decodePayload(t, delegated)
	act, _ := claims["act"].(map[string]any)
	if claims["sub"] != "alice" || act["sub"] != "gateway@clients" || act["client_id"] != "gateway" || act["act"] != nil {
		t.Fatalf("claims %v", claims)
	}
	if body["scope"] != nil && body["scope"] != "read:balance" {
		t.Fatalf("scope %v", body["scope"])
	}
	last := x.seen[len(x.seen)-1]
	if last.ActorToken == nil || last.ActorToken.Subject != "gateway@clients" {
		t.Fatalf("rule saw actor %+v", last.ActorToken)
	}
	rec.mu.Lock()
	issued := rec.events[len(rec.events)-1]
	rec.mu.Unlock()
	if issued.Kind != event.TokenIssued || issued.Subject != "alice" || issued.Client != "gateway" || issued.Attrs["actor"] != "gateway@clients" {
		t.Fatalf("event %+v", issued)
	}

	// The delegated token acts in turn: the chain nests (RFC 8693 §4.1).
	status, body = x.post(t, "gateway", url.Values{"subject_token": {subject}, "audience": {ledgerAPI},
		"actor_token": {delegated}, "actor_token_type": {authz.TokenTypeAccessToken}})
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, body)
	}
	act, _ = decodePayload(t, body["access_token"].(string))["act"].(map[string]any)
	inner, _ := act["act"].(map[string]any)
	if act["sub"] != "alice" || inner["sub"] != "gateway@clients" {
		t.Fatalf("act %v", act)
	}

	// Impersonating with a delegated token keeps its delegation.
	newLedgerPolicy(t, x, func(p *storage.ExchangePolicy) { p.SubjectAudiences = append(p.SubjectAudiences, ledgerAPI) })
	status, body = x.post(t, "gateway", url.Values{"subject_token": {delegated}, "audience": {ledgerAPI}})
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, body)
	}
	act, _ = decodePayload(t, body["access_token"].(string))["act"].(map[string]any)
	if act["sub"] != "gateway@clients" {
		t.Fatalf("delegation lost: act %v", act)
	}
}

// newLedgerPolicy changes the ledger's exchange policy through the store.
func newLedgerPolicy(t *testing.T, x *exchangeFixture, change func(*storage.ExchangePolicy)) {
	t.Helper()
	ctx := context.Background()
	api, err := x.store.APIs().Get(ctx, ledgerAPI)
	must(t, err)
	change(api.TokenExchange)
	must(t, x.store.APIs().Update(ctx, api))
}

// TestTokenExchangeRefusals: every refusal with its RFC 8693 §2.2.2 code.
func TestTokenExchangeRefusals(t *testing.T) {
	x := newExchangeFixture(t)
	subject, _ := x.aliceBank(t, "read:balance")
	events := x.exchange(t, "events-app", "alice", []string{"create:events"}).AccessToken
	cases := []struct {
		name   string
		client string
		form   url.Values
		status int
		code   string
	}{
		{"an API without a policy", "gateway", url.Values{"subject_token": {subject}, "audience": {eventsAPI}}, 400, "invalid_target"},
		{"an unknown audience", "gateway", url.Values{"subject_token": {subject}, "audience": {"https://nowhere.example.com"}}, 400, "invalid_target"},
		{"no audience", "gateway", url.Values{"subject_token": {subject}}, 400, "invalid_request"},
		{"a subject audience not allowed", "gateway", url.Values{"subject_token": {events}, "audience": {ledgerAPI}}, 400, "invalid_target"},
		{"a scope the subject lacks", "gateway", url.Values{"subject_token": {subject}, "audience": {ledgerAPI}, "scope": {"read:balance transfer:funds"}}, 400, "invalid_scope"},
		{"a scope outside the policy", "gateway", url.Values{"subject_token": {subject}, "audience": {ledgerAPI}, "scope": {"audit:ledger"}}, 400, "invalid_scope"},
		{"a client outside the policy", "intruder", url.Values{"subject_token": {subject}, "audience": {ledgerAPI}}, 400, "unauthorized_client"},
		{"a client without the grant type", "bank-app", url.Values{"subject_token": {subject}, "audience": {ledgerAPI}}, 400, "unauthorized_client"},
		{"a forged subject token", "gateway", url.Values{"subject_token": {subject[:len(subject)-4] + "AAAA"}, "audience": {ledgerAPI}}, 400, "invalid_grant"},
		{"garbage", "gateway", url.Values{"subject_token": {"not-a-token"}, "audience": {ledgerAPI}}, 400, "invalid_grant"},
		{"a refresh token type", "gateway", url.Values{"subject_token": {subject}, "subject_token_type": {"urn:ietf:params:oauth:token-type:refresh_token"}, "audience": {ledgerAPI}}, 400, "invalid_request"},
		{"no subject token", "gateway", url.Values{"audience": {ledgerAPI}}, 400, "invalid_request"},
		{"an actor token without its type", "gateway", url.Values{"subject_token": {subject}, "audience": {ledgerAPI}, "actor_token": {subject}}, 400, "invalid_request"},
		{"a bad actor token", "gateway", url.Values{"subject_token": {subject}, "audience": {ledgerAPI}, "actor_token": {"x.y.z"}, "actor_token_type": {authz.TokenTypeAccessToken}}, 400, "invalid_grant"},
		{"a requested id token", "gateway", url.Values{"subject_token": {subject}, "audience": {ledgerAPI}, "requested_token_type": {"urn:ietf:params:oauth:token-type:id_token"}}, 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := x.post(t, c.client, c.form)
			wantOAuthError(t, status, body, c.status, c.code)
		})
	}

	t.Run("a revoked subject token", func(t *testing.T) {
		subject, _ := x.aliceBank(t, "read:balance")
		must(t, x.srv.Revoke(context.Background(), "bank-app", subject))
		status, body := x.post(t, "gateway", url.Values{"subject_token": {subject}, "audience": {ledgerAPI}})
		wantOAuthError(t, status, body, 400, "invalid_grant")
	})
	t.Run("a deleted user", func(t *testing.T) {
		subject, _ := x.aliceBank(t, "read:balance")
		must(t, x.store.Users().Delete(context.Background(), "alice"))
		status, body := x.post(t, "gateway", url.Values{"subject_token": {subject}, "audience": {ledgerAPI}})
		wantOAuthError(t, status, body, 400, "invalid_grant")
	})
	t.Run("a rule cannot add a scope the subject lacks", func(t *testing.T) {
		y := newExchangeFixture(t, func(c *authz.Config) {
			c.Rules = append(c.Rules, authz.Rule{Name: "widen", Run: func(_ context.Context, tx *authz.Transaction) error {
				if tx.Trigger == authz.TriggerTokenExchange {
					_ = tx.AddScope("transfer:funds")
				}
				return nil
			}})
		})
		subject, _ := y.aliceBank(t, "read:balance")
		_, body := y.post(t, "gateway", url.Values{"subject_token": {subject}, "audience": {ledgerAPI}})
		if s, _ := body["access_token"].(string); s == "" || strings.Contains(decodePayload(t, s)["scope"].(string), "transfer:funds") {
			t.Fatalf("widened: %v", body)
		}
	})
}

// TestTokenExchangeForeignIssuer: a token of another issuer, verified by
// its remote authorizer, is exchanged only for an API whose policy trusts
// that issuer.
func TestTokenExchangeForeignIssuer(t *testing.T) {
	other := newFixture(t)
	remote, err := resource.NewRemote(context.Background(), resource.RemoteConfig{Issuer: other.srv.Issuer(), Audience: usersAPI})
	must(t, err)
	x := newExchangeFixture(t, func(c *authz.Config) {
		c.ExchangeIssuers = map[string]authz.SubjectVerifier{other.srv.Issuer(): remote}
	})
	subject := other.issue(t, usersAPI, "read:users").AccessToken
	form := func() url.Values { return url.Values{"subject_token": {subject}, "audience": {ledgerAPI}} }

	status, body := x.post(t, "gateway", form())
	wantOAuthError(t, status, body, 400, "invalid_target") // the ledger does not trust it yet

	newLedgerPolicy(t, x, func(p *storage.ExchangePolicy) {
		p.Issuers = []string{other.srv.Issuer()}
		p.SubjectAudiences = append(p.SubjectAudiences, usersAPI)
	})
	status, body = x.post(t, "gateway", form())
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, body)
	}
	claims := decodePayload(t, body["access_token"].(string))
	if claims["sub"] != "reporter@clients" || claims["client_id"] != "gateway" || claims["iss"] != x.srv.Issuer() || claims["scope"] != "read:users" {
		t.Fatalf("claims %v", claims)
	}

	// An issuer nobody configured is not trusted at all.
	third := newFixture(t)
	status, body = x.post(t, "gateway", url.Values{"subject_token": {third.issue(t, usersAPI).AccessToken}, "audience": {ledgerAPI}})
	wantOAuthError(t, status, body, 400, "invalid_grant")
}

// TestTokenExchangeDiscovery: the grant type is listed once registered.
func TestTokenExchangeDiscovery(t *testing.T) {
	x := newExchangeFixture(t)
	if !slices.Contains(x.srv.Metadata().GrantTypesSupported, oauth.GrantTokenExchange) {
		t.Fatal("token exchange not in grant_types_supported")
	}
}

// TestTokenExchangeContract: a grant cannot make up a subject token (to
// issue another client's machine subject, or any token), nor issue a
// refresh token with a real one.
func TestTokenExchangeContract(t *testing.T) {
	forge := func(mode string) customGrant {
		return customGrant{name: "urn:example:forge", decide: func(ctx context.Context, x *authz.Exchange) (*authz.Decision, error) {
			api, err := x.Directory.API(ctx, bankUserAPI)
			if err != nil {
				return nil, err
			}
			d := &authz.Decision{Trigger: authz.TriggerTokenExchange, GrantType: "forge", API: api, Exchanged: &authz.SubjectToken{}}
			switch mode {
			case "machine":
				d.Subject = "other@clients"
			case "refresh":
				sub, err := x.Subjects.Verify(ctx, x.Request.Params.Get("subject_token"), authz.TokenTypeAccessToken)
				if err != nil {
					return nil, err
				}
				d.Subject, d.Exchanged, d.IssueRefresh = sub.Subject(), sub, true
			}
			return d, nil
		}}
	}
	for mode, want := range map[string]string{"machine": "invalid_grant", "zero": "server_error", "refresh": "server_error"} {
		t.Run(mode, func(t *testing.T) {
			f := newUserFixture(t, withGrants(grant.AuthorizationCode{}, grant.RefreshToken{}, forge(mode)))
			subject := f.exchange(t, "bank-app", "alice", []string{"read:balance"}, "read:balance").AccessToken
			f.allowGrantTypes(t, "authorization_code", "urn:example:forge")
			status, body := f.postGrant(t, url.Values{"grant_type": {"urn:example:forge"}, "subject_token": {subject}})
			if body["error"] != want || body["access_token"] != nil || status < 400 {
				t.Fatalf("got %d %v, want %s", status, body, want)
			}
		})
	}
}
