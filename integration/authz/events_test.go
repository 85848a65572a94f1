package authz_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/event"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// outageStore fails Resolve while down is set, as a backend that stopped
// answering does.
type outageStore struct {
	storage.Store
	down *atomic.Bool
}

func (s outageStore) Resolve(ctx context.Context, clientID, audience string) (*storage.Resolution, error) {
	if s.down.Load() {
		return nil, fmt.Errorf("%w: redis connection failed", storage.ErrUnavailable)
	}
	return s.Store.Resolve(ctx, clientID, audience)
}

// recorder is an event hook that keeps every event it sees.
type recorder struct {
	mu     sync.Mutex
	events []event.Event
}

func (r *recorder) hook(next event.Handler) event.Handler {
	return func(ctx context.Context, e event.Event) {
		r.mu.Lock()
		r.events = append(r.events, e.Clone())
		r.mu.Unlock()
		next(ctx, e)
	}
}

func (r *recorder) kinds() map[event.Kind]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[event.Kind]int{}
	for _, e := range r.events {
		out[e.Kind]++
	}
	return out
}

// TestEventsCarryNoSecret runs client credentials, the code flow with
// refresh, rotation, reuse and a code replay, consent given and revoked, a
// rule's denial, key rotation, management writes and an outage, with a
// recording hook, a logger capturing every line and the audit log on; it
// checks that each outcome has its event and that no secret, code or token
// the run handled appears in any event, log line or audit record.
func TestEventsCarryNoSecret(t *testing.T) {
	var logs syncBuffer
	rec := &recorder{}
	down := &atomic.Bool{}
	f := newUserFixture(t, func(c *authz.Config) {
		c.Store = outageStore{Store: c.Store, down: down}
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.EventHooks = []event.Hook{rec.hook}
		c.AuditLog = true
		noRetries(c) // an immediate reuse and replay must raise their alarms
		c.Rules = []authz.Rule{{Name: "block-list", Run: func(_ context.Context, t *authz.Transaction) error {
			if t.Client.ID == "blocked" {
				return t.Deny("client is blocked")
			}
			return nil
		}}}
	})
	ctx := event.WithActor(context.Background(), "ops@example.com")
	var secrets []string
	keep := func(vs ...string) {
		for _, v := range vs {
			if v != "" {
				secrets = append(secrets, v)
			}
		}
	}
	keep(f.bankSecret)
	adm := admin.New(f.srv)

	// Management writes: two machine clients and their grants.
	m2m := &storage.Client{ID: "m2m", Name: "M2M", GrantTypes: []string{"client_credentials"}}
	m2mSecret, err := adm.CreateClient(ctx, m2m)
	must(t, err)
	blocked := &storage.Client{ID: "blocked", Name: "Blocked", GrantTypes: []string{"client_credentials"}}
	blockedSecret, err := adm.CreateClient(ctx, blocked)
	must(t, err)
	keep(m2mSecret, blockedSecret)
	for _, id := range []string{"m2m", "blocked"} {
		must(t, adm.CreateClientGrant(ctx, &storage.ClientGrant{ClientID: id, Audience: bankUserAPI, Scopes: []string{"read:balance"}}))
	}
	rotated, err := adm.RotateClientSecret(ctx, "m2m")
	must(t, err)
	keep(rotated)
	m2mSecret = rotated
	if err := adm.CreateClientGrant(ctx, &storage.ClientGrant{ClientID: "nobody", Audience: bankUserAPI}); err == nil {
		t.Fatal("a grant for an unknown client was created")
	}

	tokenURL := f.ts.URL + "/oauth/token"
	cc := func(id, secret string) map[string]any {
		_, body := postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "audience": {bankUserAPI}}, basic(id, secret))
		return body
	}
	// Client credentials: issued, a wrong secret, a rule's denial.
	body := cc("m2m", m2mSecret)
	keep(fmt.Sprint(body["access_token"]))
	wrong := token.NewSecret()
	keep(wrong)
	if body := cc("m2m", wrong); body["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %v", body)
	}
	if body := cc("blocked", blockedSecret); body["error"] != "access_denied" {
		t.Fatalf("denied client: %v", body)
	}

	// The code flow: consent, exchange, rotation, reuse, then a replay.
	b := f.browser(t)
	b.login(f, "alice")
	cfg := f.oauth("bank-app")
	code, verifier := f.codeFor(t, b, true, "read:balance", "offline_access")
	keep(code, verifier)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	must(t, err)
	idToken, _ := tok.Extra("id_token").(string)
	keep(tok.AccessToken, tok.RefreshToken, idToken)
	refresh := func(rt string) map[string]any {
		_, body := postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic("bank-app", f.bankSecret))
		keep(fmt.Sprint(body["access_token"]), fmt.Sprint(body["refresh_token"]))
		return body
	}
	next := refresh(tok.RefreshToken)
	if next["refresh_token"] == nil {
		t.Fatalf("rotation: %v", next)
	}
	if body := refresh(tok.RefreshToken); body["error"] != "invalid_grant" {
		t.Fatalf("reuse: %v", body)
	}
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("replay: %v", err)
	}
	// Revocation at the endpoint of a fresh grant's refresh token.
	code2, verifier2 := f.codeFor(t, b, true, "read:balance", "offline_access")
	keep(code2, verifier2)
	tok2, err := cfg.Exchange(ctx, code2, oauth2.VerifierOption(verifier2))
	must(t, err)
	keep(tok2.AccessToken, tok2.RefreshToken)
	postForm(t, f.ts.URL+"/oauth/revoke", url.Values{"token": {tok2.RefreshToken}}, basic("bank-app", f.bankSecret))
	postForm(t, f.ts.URL+"/oauth/revoke", url.Values{"token": {tok2.AccessToken}}, basic("bank-app", wrong))
	must(t, f.srv.RevokeConsent(ctx, "alice", "bank-app", bankUserAPI))

	// A browser without a session is sent to sign in.
	f.browser(t).get(cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("audience", bankUserAPI), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))

	// Keys and an outage.
	kid, err := adm.RotateKey(ctx, token.ES256)
	must(t, err)
	must(t, adm.RetireKey(ctx, kid))
	down.Store(true)
	if body := cc("m2m", m2mSecret); body["error"] != "temporarily_unavailable" {
		t.Fatalf("outage: %v", body)
	}
	down.Store(false)

	kinds := rec.kinds()
	for _, k := range []event.Kind{event.TokenIssued, event.ClientAuthFailed, event.RuleDenied, event.RefreshRotated,
		event.RefreshReused, event.CodeReplayed, event.ConsentGranted, event.ConsentRevoked, event.LoginRequired,
		event.TokenRevoked, event.KeyCreated, event.KeyRotated, event.KeyRetired, event.StorageUnavailable, event.AdminWrite} {
		if kinds[k] == 0 {
			t.Errorf("no %s event (saw %v)", k, kinds)
		}
	}

	// Every event, every log line and every audit record, scanned.
	var all []string
	rec.mu.Lock()
	for _, e := range rec.events {
		all = append(all, fmt.Sprintf("%+v", e))
	}
	rec.mu.Unlock()
	all = append(all, strings.Split(logs.String(), "\n")...)
	var audited []*storage.AuditRecord
	for q := (storage.AuditQuery{Limit: 7}); ; {
		page, err := adm.ListAuditLogs(ctx, q)
		must(t, err)
		audited = append(audited, page.Records...)
		if page.Next == "" {
			break
		}
		q.Before = page.Next
	}
	for _, r := range audited {
		all = append(all, fmt.Sprintf("%+v", *r))
	}
	for _, line := range all {
		for _, s := range secrets {
			if s != "<nil>" && strings.Contains(line, s) {
				t.Fatalf("a secret value (%.6s…) appears in %q", s, line)
			}
			// Refresh tokens start with their family id, which events do
			// carry: the random part after the dot must never appear.
			if _, tail, ok := strings.Cut(s, "."); ok && len(tail) > 20 && strings.Contains(line, tail) {
				t.Fatalf("a token's random part appears in %q", line)
			}
		}
	}

	// The audit log holds the audited kinds, newest first, with the actor.
	auditKinds := map[string]int{}
	for _, r := range audited {
		auditKinds[r.Kind]++
	}
	for _, k := range []event.Kind{event.ClientAuthFailed, event.RefreshReused, event.CodeReplayed, event.ConsentGranted,
		event.ConsentRevoked, event.KeyRotated, event.AdminWrite} {
		if auditKinds[string(k)] == 0 {
			t.Errorf("no %s in the audit log (%v)", k, auditKinds)
		}
	}
	if auditKinds[string(event.TokenIssued)] != 0 {
		t.Error("issuance is audited: it is traffic, logged only")
	}
	var failed, actor bool
	for _, r := range audited {
		if r.Kind == string(event.AdminWrite) {
			actor = actor || r.Actor == "ops@example.com"
			failed = failed || r.Outcome == event.OutcomeFailure && r.TargetKind == "client_grant"
		}
	}
	if !actor || !failed {
		t.Errorf("management writes in the audit log: actor %v, failed write %v", actor, failed)
	}
	reused, err := adm.ListAuditLogs(ctx, storage.AuditQuery{Kinds: []string{string(event.RefreshReused)}})
	must(t, err)
	if len(reused.Records) != 1 || reused.Records[0].Attrs["family"] == "" || reused.Records[0].Client != "bank-app" {
		t.Fatalf("the reuse's audit record: %+v", reused.Records)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// failingAudit is a store whose audit log does not answer.
type failingAudit struct{ storage.Store }

func (failingAudit) AppendAudit(context.Context, *storage.AuditRecord, int) error {
	return fmt.Errorf("%w: redis connection failed", storage.ErrUnavailable)
}

// TestAuditFailureDoesNotFailRequests: a failed audit write is logged, and
// the request it records is answered as without the audit log.
func TestAuditFailureDoesNotFailRequests(t *testing.T) {
	var logs syncBuffer
	f := newUserFixture(t, func(c *authz.Config) {
		c.Store = failingAudit{c.Store}
		c.AuditLog = true
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	_, body := postForm(t, f.ts.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x.y"}}, basic("bank-app", "wrong"))
	if body["error"] != "invalid_client" {
		t.Fatalf("a failed audit write changed the answer: %v", body)
	}
	must(t, admin.New(f.srv).CreateUser(context.Background(), &storage.User{ID: "carol"}))
	if _, err := f.store.Users().Get(context.Background(), "carol"); err != nil {
		t.Fatalf("a failed audit write undid a management write: %v", err)
	}
	if !strings.Contains(logs.String(), "audit record not stored") {
		t.Fatalf("the failed audit write is not logged: %s", logs.String())
	}
}
