package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// Rule is one step of the rule chain, the Go form of an Auth0 Rule. Rules
// run in order at every issuance (client-credentials exchange, user login by
// code or implicit flow, refresh). A rule sees the transaction so far and may
// add namespaced claims to the ID and access tokens, remove scopes, add back
// a requested scope, or deny. Returning an error other than a denial fails
// the request with server_error, as do a panic and running past the deadline;
// nothing is issued or stored then.
type Rule struct {
	// Name identifies the rule in logs and explanations.
	Name string
	// Run is the rule itself.
	Run func(ctx context.Context, t *Transaction) error
}

// Transaction is what a rule sees and changes. Client, API and User are
// copies: changing them changes nothing stored.
type Transaction struct {
	// Trigger is what caused the issuance.
	Trigger Trigger
	// Client is the client the tokens are for.
	Client storage.Client
	// API is the audience of the access token; nil for a sign-in without API.
	API *storage.API
	// User is the user, with user_metadata and app_metadata; nil for client
	// credentials.
	User *storage.User
	// RequestedScopes are the scopes the client asked for.
	RequestedScopes []string

	scopes []string
	claims []ruleClaim
	rule   string
	trace  []TraceEntry
}

// ruleClaim is a claim a rule set, validated when the chain ends.
type ruleClaim struct {
	rule, name string
	idToken    bool
	value      any
}

// TraceEntry is one change a rule made, for Server.Explain. Scope changes
// and denials are recorded as rules run; claims are recorded when the chain
// ends, where they are validated.
type TraceEntry struct {
	Rule string `json:"rule"`
	// Action is scope_removed, scope_added, scope_refused, claim_added,
	// claim_dropped or denied.
	Action string `json:"action"`
	// Target is the scope or claim name.
	Target string `json:"target,omitempty"`
	// Detail explains a refusal or a denial.
	Detail string `json:"detail,omitempty"`
}

// Scopes returns the scopes granted so far.
func (t *Transaction) Scopes() []string { return append([]string(nil), t.scopes...) }

// HasScope reports whether scope is granted so far.
func (t *Transaction) HasScope(scope string) bool { return contains(t.scopes, scope) }

// RemoveScope takes a scope out of the grant.
func (t *Transaction) RemoveScope(scope string) {
	out := t.scopes[:0]
	for _, s := range t.scopes {
		if s != scope {
			out = append(out, s)
		}
	}
	if len(out) != len(t.scopes) {
		t.note("scope_removed", scope, "")
	}
	t.scopes = out
}

// AddScope grants a scope that was requested and that the API defines (or an
// OpenID scope that was requested), for example one that RBAC refused. A rule
// can never invent a scope: anything else is refused with an error.
func (t *Transaction) AddScope(scope string) error {
	if t.HasScope(scope) {
		return nil
	}
	definedByAPI := t.API != nil && t.API.HasScope(scope)
	if !contains(t.RequestedScopes, scope) || !(definedByAPI || identityScopes[scope] != "") {
		t.note("scope_refused", scope, "not requested, or not defined by the API")
		return fmt.Errorf("authz: rule %s may not add scope %q: it was not requested or the API does not define it", t.rule, scope)
	}
	t.scopes = append(t.scopes, scope)
	t.note("scope_added", scope, "")
	return nil
}

// SetIDTokenClaim adds a custom claim to the ID token (and to /userinfo).
// The name must be namespaced: an absolute http or https URL not under a
// reserved host.
func (t *Transaction) SetIDTokenClaim(name string, value any) {
	t.claims = append(t.claims, ruleClaim{rule: t.rule, name: name, idToken: true, value: value})
}

// SetAccessTokenClaim adds a custom claim to the access token, under the
// same naming rules as SetIDTokenClaim.
func (t *Transaction) SetAccessTokenClaim(name string, value any) {
	t.claims = append(t.claims, ruleClaim{rule: t.rule, name: name, value: value})
}

// Deny returns the error a rule returns to refuse the request: the client
// gets access_denied with the reason as description.
func (t *Transaction) Deny(reason string) error {
	return &denial{reason: reason}
}

type denial struct{ reason string }

func (d *denial) Error() string { return "authz: denied by rule: " + d.reason }

func (t *Transaction) note(action, target, detail string) {
	t.trace = append(t.trace, TraceEntry{Rule: t.rule, Action: action, Target: target, Detail: detail})
}

// clone copies the transaction so a rule that overruns its deadline keeps
// writing to a copy nobody reads.
func (t *Transaction) clone() *Transaction {
	c := *t
	c.scopes = append([]string(nil), t.scopes...)
	c.claims = append([]ruleClaim(nil), t.claims...)
	c.trace = append([]TraceEntry(nil), t.trace...)
	c.RequestedScopes = append([]string(nil), t.RequestedScopes...)
	return &c
}

// newTransaction builds a rule transaction for a decision, with copies of
// the records.
func newTransaction(c *storage.Client, d *Decision) *Transaction {
	t := &Transaction{
		Trigger: d.Trigger, Client: *cloneJSON(c),
		RequestedScopes: append([]string(nil), d.RequestedScopes...),
		scopes:          append([]string(nil), d.Scopes...),
	}
	if d.API != nil {
		t.API = cloneJSON(d.API)
	}
	if d.User != nil {
		t.User = cloneJSON(d.User)
	}
	return t
}

// cloneJSON deep-copies a record through its JSON form. Rules are not on the
// hot path of a server without rules, and records always marshal.
func cloneJSON[T any](v *T) *T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("authz: record does not marshal: %v", err))
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("authz: record does not unmarshal: %v", err))
	}
	return out
}

// ruleOutcome is what the chain decided.
type ruleOutcome struct {
	scopes       []string
	idClaims     map[string]any
	accessClaims map[string]any
	trace        []TraceEntry
}

// runRules runs the chain on the decision. A denial is access_denied with
// its reason; a rule error, panic or overrun is server_error; with strict
// claims, an invalid claim is server_error too.
func (s *Server) runRules(ctx context.Context, c *storage.Client, d *Decision) (*ruleOutcome, error) {
	t := newTransaction(c, d)
	for _, r := range s.cfg.Rules {
		next, err := s.runRule(ctx, r, t)
		if err != nil {
			var den *denial
			if errors.As(err, &den) {
				t.rule = r.Name
				t.note("denied", "", den.reason)
				return &ruleOutcome{trace: t.trace}, ErrAccessDenied.WithDescription(den.reason)
			}
			return &ruleOutcome{trace: t.trace}, ErrServerError.WithCause(fmt.Errorf("rule %s: %w", r.Name, err))
		}
		t = next
	}
	return s.finishClaims(t)
}

// runRule runs one rule on a copy of t under the rule deadline, recovering
// a panic.
func (s *Server) runRule(ctx context.Context, r Rule, t *Transaction) (*Transaction, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RuleTimeout)
	defer cancel()
	work := t.clone()
	work.rule = r.Name
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("panic: %v", p)
			}
		}()
		done <- r.Run(ctx, work)
	}()
	select {
	case err := <-done:
		return work, err
	case <-ctx.Done():
		return nil, fmt.Errorf("did not finish within %v: %w", s.cfg.RuleTimeout, ctx.Err())
	}
}

// finishClaims validates the claims rules set: names must be namespaced
// URLs outside the reserved hosts, values must be JSON, and their total size
// must stay under the cap. Invalid claims are dropped and logged, or fail the
// issuance in strict mode.
func (s *Server) finishClaims(t *Transaction) (*ruleOutcome, error) {
	out := &ruleOutcome{scopes: t.scopes, idClaims: map[string]any{}, accessClaims: map[string]any{}}
	total := 0
	for _, c := range t.claims {
		reason := s.claimNameProblem(c.name)
		var size int
		if reason == "" {
			b, err := json.Marshal(c.value)
			switch {
			case err != nil:
				reason = "value is not JSON"
			case total+len(b)+len(c.name) > s.cfg.MaxCustomClaimsBytes:
				reason = fmt.Sprintf("custom claims exceed %d bytes", s.cfg.MaxCustomClaimsBytes)
			default:
				size = len(b) + len(c.name)
			}
		}
		if reason != "" {
			t.rule = c.rule
			t.note("claim_dropped", c.name, reason)
			if s.cfg.StrictClaims {
				out.trace = t.trace
				return out, ErrServerError.WithCause(fmt.Errorf("rule %s: claim %q: %s", c.rule, c.name, reason))
			}
			s.cfg.Logger.Warn("authz: claim dropped", "rule", c.rule, "claim", c.name, "reason", reason)
			continue
		}
		total += size
		t.rule = c.rule
		t.note("claim_added", c.name, map[bool]string{true: "id_token", false: "access_token"}[c.idToken])
		if c.idToken {
			out.idClaims[c.name] = c.value
		} else {
			out.accessClaims[c.name] = c.value
		}
	}
	out.trace = t.trace
	return out, nil
}

// claimNameProblem says why a custom claim name is refused, or "".
func (s *Server) claimNameProblem(name string) string {
	u, err := url.Parse(name)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "not namespaced: a custom claim must be an http or https URL"
	}
	host := strings.ToLower(u.Hostname())
	for _, r := range s.reservedHosts {
		if host == r || strings.HasSuffix(host, "."+r) {
			return "namespace under the reserved host " + r
		}
	}
	return ""
}

// defaultRuleTimeout bounds one rule's run.
const defaultRuleTimeout = 2 * time.Second

// applyRules runs the chain on d and applies its outcome: the scopes, and
// the custom claims (ID-token claims join those decided at login).
func (s *Server) applyRules(ctx context.Context, c *storage.Client, d *Decision) error {
	if len(s.cfg.Rules) == 0 {
		return nil
	}
	out, err := s.runRules(ctx, c, d)
	if err != nil {
		return err
	}
	d.Scopes = out.scopes
	if len(out.accessClaims) > 0 {
		d.AccessClaims = out.accessClaims
	}
	if len(out.idClaims) > 0 {
		merged := make(map[string]any, len(d.Claims)+len(out.idClaims))
		for k, v := range d.Claims {
			merged[k] = v
		}
		for k, v := range out.idClaims {
			merged[k] = v
		}
		d.Claims = merged
	}
	return nil
}

// Keys of AuthCode.Claims: what rules decided at login, used at the exchange.
const (
	codeIDClaims     = "id_token"
	codeAccessClaims = "access_token"
)

// codeClaims packs a login decision's custom claims into a code.
func codeClaims(d *Decision) map[string]any {
	if len(d.Claims) == 0 && len(d.AccessClaims) == 0 {
		return nil
	}
	return map[string]any{codeIDClaims: d.Claims, codeAccessClaims: d.AccessClaims}
}

// CodeClaims unpacks the custom claims a code carries: the ID-token claims
// and the access-token claims decided by rules at login.
func CodeClaims(c *storage.AuthCode) (id, access map[string]any) {
	id, _ = c.Claims[codeIDClaims].(map[string]any)
	access, _ = c.Claims[codeAccessClaims].(map[string]any)
	return id, access
}
