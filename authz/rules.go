package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
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

// Transaction is what a rule sees and changes. Its fields are for reading:
// Client, API and User are deep copies made for the chain, so changing them
// (or Trigger and GrantType) changes nothing stored and nothing the server
// issues from. A later rule of the same chain sees such a change, as with
// Auth0's user object; the next issuance starts from the stored records
// again. What a rule changes in the issuance goes through the methods:
// RemoveScope, AddScope, SetIDTokenClaim, SetAccessTokenClaim and Deny.
type Transaction struct {
	// Trigger is what caused the issuance.
	Trigger Trigger
	// GrantType tells the flow apart within a trigger: "authorization_code"
	// or "implicit" for TriggerLogin (the code flow, or response_type
	// id_token / "id_token token"), "refresh_token" for TriggerRefresh and
	// "client-credentials" for TriggerClientCredentials. It is the value
	// of the access token's gty claim.
	GrantType string
	// Client is the client the tokens are for.
	Client storage.Client
	// API is the audience of the access token; nil for a sign-in without API.
	// Its Scopes are informational: AddScope checks the scopes the stored
	// API defines, not this copy.
	API *storage.API
	// User is the user, with user_metadata and app_metadata; nil for client
	// credentials.
	User *storage.User
	// SubjectToken and ActorToken are the tokens a token exchange
	// presented (TriggerTokenExchange); nil otherwise, and ActorToken nil
	// for impersonation.
	SubjectToken, ActorToken *ExchangedToken

	// reserved, maxClaimBytes and strict are the claim settings of the
	// server (Config.ReservedClaimHosts, MaxCustomClaimsBytes, StrictClaims).
	reserved      []string
	maxClaimBytes int
	strict        bool
	// requested and apiScopes are the server's own copies of the requested
	// scopes and of the scopes the API defines, which AddScope checks. No
	// rule can reach them.
	requested []string
	apiScopes []string
	scopes    []string
	// consented, when not nil, are the scopes the user consented to:
	// AddScope grants nothing outside them (Decision.ConsentedScopes).
	consented []string
	// idClaims and accessClaims are the validated custom claims, values
	// frozen as JSON at set time; claimSizes and claimBytes track the cap.
	idClaims, accessClaims map[string]any
	claimSizes             map[string]int
	claimBytes             int
	// strictErr is the first invalid claim in strict mode.
	strictErr error
	rule      string
	trace     []TraceEntry
}

// TraceEntry is one change a rule made, for Server.Explain. Entries are
// recorded as the rules run, in order: a claim is validated when the rule
// sets it, and recorded then as added or dropped.
type TraceEntry struct {
	// Rule is the name of the rule that made the change.
	Rule string `json:"rule"`
	// Action is scope_removed, scope_added, scope_refused, claim_added,
	// claim_dropped or denied.
	Action string `json:"action"`
	// Target is the scope or claim name.
	Target string `json:"target,omitempty"`
	// Detail says which token a claim was added to ("id_token" or
	// "access_token"), or explains a refusal, a dropped claim or a denial.
	Detail string `json:"detail,omitempty"`
}

// RequestedScopes returns a copy of the scopes the client asked for.
func (t *Transaction) RequestedScopes() []string { return append([]string(nil), t.requested...) }

// Scopes returns the scopes granted so far.
func (t *Transaction) Scopes() []string { return append([]string(nil), t.scopes...) }

// HasScope reports whether scope is granted so far.
func (t *Transaction) HasScope(scope string) bool { return contains(t.scopes, scope) }

// RemoveScope takes a scope out of the grant.
func (t *Transaction) RemoveScope(scope string) {
	out := make([]string, 0, len(t.scopes))
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

// AddScope grants a scope that the client requested and that the API
// defines (or, for a user, a requested OpenID scope), for example one that
// RBAC refused. A rule can never invent a scope: anything else is refused
// with an error. Both checks use the server's own records, so changing
// t.API or the slice RequestedScopes returns has no effect. Where the user's
// consent applies (a third-party client), a rule cannot grant a scope the
// user did not consent to either: the consent page is the user's word.
func (t *Transaction) AddScope(scope string) error {
	if t.HasScope(scope) {
		return nil
	}
	defined := contains(t.apiScopes, scope) || (t.User != nil && identityScopes[scope] != "")
	if !contains(t.requested, scope) || !defined {
		t.note("scope_refused", scope, "not requested, or not defined by the API")
		return fmt.Errorf("authz: rule %s may not add scope %q: it was not requested or the API does not define it", t.rule, scope)
	}
	if t.consented != nil && !contains(t.consented, scope) {
		t.note("scope_refused", scope, "the user did not consent to it")
		return fmt.Errorf("authz: rule %s may not add scope %q: the user did not consent to it", t.rule, scope)
	}
	t.scopes = append(t.scopes, scope)
	t.note("scope_added", scope, "")
	return nil
}

// SetIDTokenClaim adds a custom claim to the ID token (and to /userinfo).
// The name must be namespaced: an absolute http or https URL not under a
// reserved host. The value is copied as JSON now: changing it afterwards
// changes nothing. Setting a name again replaces the value. A claim that
// breaks the rules is left out and logged, or fails the issuance with
// Config.StrictClaims; either way the trace records it.
func (t *Transaction) SetIDTokenClaim(name string, value any) { t.setClaim(true, name, value) }

// SetAccessTokenClaim adds a custom claim to the access token, under the
// same rules as SetIDTokenClaim.
func (t *Transaction) SetAccessTokenClaim(name string, value any) { t.setClaim(false, name, value) }

// setClaim validates a claim as the rule sets it and records the outcome
// in the trace, in rule order.
func (t *Transaction) setClaim(idToken bool, name string, value any) {
	target, claims := "access_token", t.accessClaims
	if idToken {
		target, claims = "id_token", t.idClaims
	}
	if claims == nil {
		t.idClaims, t.accessClaims, t.claimSizes = map[string]any{}, map[string]any{}, map[string]int{}
		t.setClaim(idToken, name, value)
		return
	}
	reason := claimNameProblem(name, t.reserved)
	var frozen any
	size := 0
	if reason == "" {
		b, err := json.Marshal(value)
		if err == nil {
			err = json.Unmarshal(b, &frozen)
		}
		size = len(b) + len(name)
		max := t.maxClaimBytes
		if max <= 0 {
			max = defaultMaxCustomClaimsBytes
		}
		switch {
		case err != nil:
			reason = "value is not JSON"
		case t.claimBytes-t.claimSizes[target+" "+name]+size > max:
			reason = fmt.Sprintf("custom claims exceed %d bytes", max)
		}
	}
	if reason != "" {
		t.note("claim_dropped", name, reason)
		if t.strict && t.strictErr == nil {
			t.strictErr = fmt.Errorf("claim %q: %s", name, reason)
		}
		return
	}
	key := target + " " + name
	t.claimBytes += size - t.claimSizes[key]
	t.claimSizes[key] = size
	claims[name] = frozen
	t.note("claim_added", name, target)
}

// Deny returns the error a rule returns to refuse the request: the client
// gets access_denied with the reason as description.
func (t *Transaction) Deny(reason string) error {
	return &denial{reason: reason}
}

// denial is the error Deny returns: the reason becomes the access_denied
// error_description.
type denial struct{ reason string }

// Error implements error.
func (d *denial) Error() string { return "authz: denied by rule: " + d.reason }

func (t *Transaction) note(action, target, detail string) {
	t.trace = append(t.trace, TraceEntry{Rule: t.rule, Action: action, Target: target, Detail: detail})
}

// clone copies the transaction so a rule that overruns its deadline keeps
// writing to a copy nobody reads.
func (t *Transaction) clone() *Transaction {
	c := *t
	c.scopes = append([]string(nil), t.scopes...)
	c.idClaims = copyMap(t.idClaims)
	c.accessClaims = copyMap(t.accessClaims)
	c.claimSizes = make(map[string]int, len(t.claimSizes))
	for k, v := range t.claimSizes {
		c.claimSizes[k] = v
	}
	c.trace = append([]TraceEntry(nil), t.trace...)
	return &c
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// newTransaction builds a rule transaction for a decision, with copies of
// the records and the server's private copies of the requested scopes and
// of the API's scopes. A record that cannot be copied (metadata set through
// the Go API that is not JSON: a func, a channel, NaN, a cycle) is an error.
func (s *Server) newTransaction(c *storage.Client, d *Decision) (*Transaction, error) {
	client, err := cloneJSON(c)
	if err != nil {
		return nil, fmt.Errorf("client %s: %w", c.ID, err)
	}
	t := &Transaction{
		Trigger: d.Trigger, GrantType: d.GrantType, Client: *client,
		reserved: s.reservedHosts, maxClaimBytes: s.cfg.MaxCustomClaimsBytes, strict: s.cfg.StrictClaims,
		requested:    append([]string(nil), d.RequestedScopes...),
		scopes:       append([]string(nil), d.Scopes...),
		consented:    slices.Clone(d.ConsentedScopes), // nil stays nil: no consent limit
		idClaims:     map[string]any{},
		accessClaims: map[string]any{},
		claimSizes:   map[string]int{},
		SubjectToken: d.Exchanged.view(), ActorToken: d.Actor.view(),
	}
	if d.API != nil {
		if t.API, err = cloneJSON(d.API); err != nil {
			return nil, fmt.Errorf("API %s: %w", d.API.Identifier, err)
		}
		for _, sc := range d.API.Scopes {
			t.apiScopes = append(t.apiScopes, sc.Name)
		}
	}
	if d.User != nil {
		if t.User, err = cloneJSON(d.User); err != nil {
			return nil, fmt.Errorf("user %s: %w", d.User.ID, err)
		}
	}
	return t, nil
}

// cloneJSON deep-copies a record through its JSON form. Rules are not on the
// hot path of a server without rules. A value JSON cannot carry is an error.
func cloneJSON[T any](v *T) (*T, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("record is not JSON: %w", err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("record does not read back from JSON: %w", err)
	}
	return out, nil
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
// claims, an invalid claim is server_error too, once its rule returns.
func (s *Server) runRules(ctx context.Context, c *storage.Client, d *Decision) (*ruleOutcome, error) {
	t, err := s.newTransaction(c, d)
	if err != nil {
		return &ruleOutcome{}, oauth.ErrServerError.WithCause(fmt.Errorf("rules: %w", err))
	}
	for _, r := range s.cfg.Rules {
		next, err := s.runRule(ctx, r, t)
		if err != nil {
			var den *denial
			if errors.As(err, &den) {
				t.rule = r.Name
				t.note("denied", "", den.reason)
				return &ruleOutcome{trace: t.trace}, oauth.ErrAccessDenied.WithDescription(den.reason)
			}
			return &ruleOutcome{trace: t.trace}, oauth.ErrServerError.WithCause(fmt.Errorf("rule %s: %w", r.Name, err))
		}
		for _, e := range next.trace[len(t.trace):] {
			if e.Action == "claim_dropped" {
				s.cfg.Logger.Warn("authz: claim dropped", "rule", e.Rule, "claim", e.Target, "reason", e.Detail)
			}
		}
		t = next
		if t.strictErr != nil {
			return &ruleOutcome{trace: t.trace}, oauth.ErrServerError.WithCause(fmt.Errorf("rule %s: %w", r.Name, t.strictErr))
		}
	}
	return &ruleOutcome{scopes: t.scopes, idClaims: t.idClaims, accessClaims: t.accessClaims, trace: t.trace}, nil
}

// runRule runs one rule on a copy of t under the rule deadline, recovering
// a panic. A goroutine cannot be stopped: a rule that ignores ctx keeps
// running after its deadline. Such rules are counted, and while
// Config.MaxOverrunningRules of them are still running no rule starts: the
// issuance fails with server_error instead of leaking one more goroutine.
func (s *Server) runRule(ctx context.Context, r Rule, t *Transaction) (*Transaction, error) {
	if n := s.overrunningRules.Load(); n >= int64(s.cfg.MaxOverrunningRules) {
		s.cfg.Logger.Error("authz: rule not started: too many rules still running past their deadline (rules must honour ctx)",
			"rule", r.Name, "overrunning", n, "max", s.cfg.MaxOverrunningRules)
		return nil, fmt.Errorf("not started: %d rules are still running past their deadline", n)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RuleTimeout)
	defer cancel()
	work := t.clone()
	work.rule = r.Name
	done := make(chan error, 1)
	// state is ruleRunning until the rule returns (ruleReturned) or the
	// deadline passes first (ruleOverrunning); whoever moves it on decides
	// who counts the overrun.
	var state atomic.Int32
	go func() {
		defer func() {
			if !state.CompareAndSwap(ruleRunning, ruleReturned) {
				s.overrunningRules.Add(-1)
				s.cfg.Logger.Warn("authz: rule returned after its deadline", "rule", r.Name)
			}
		}()
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
		s.overrunningRules.Add(1)
		if !state.CompareAndSwap(ruleRunning, ruleOverrunning) {
			s.overrunningRules.Add(-1) // it returned just now
		} else {
			s.cfg.Logger.Error("authz: rule still running past its deadline; it must honour ctx",
				"rule", r.Name, "timeout", s.cfg.RuleTimeout)
		}
		return nil, fmt.Errorf("did not finish within %v: %w", s.cfg.RuleTimeout, ctx.Err())
	}
}

// States of one rule run, for counting the rules that overrun.
const (
	ruleRunning int32 = iota
	ruleReturned
	ruleOverrunning
)

// defaultMaxOverrunningRules is the default of Config.MaxOverrunningRules.
const defaultMaxOverrunningRules = 100

// registeredClaims are the registered JWT claims and the OIDC standard
// claims (RFC 7519 §4.1, RFC 9068 §2.2, OIDC Core §2 and §5.1): the server
// alone sets them, a rule never can.
var registeredClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"scope": true, "client_id": true, "azp": true, "nonce": true, "at_hash": true, "c_hash": true,
	"auth_time": true, "acr": true, "amr": true, "sid": true, "gty": true, "permissions": true,
	"cnf": true, "act": true, "may_act": true, "typ": true,
}

// defaultMaxCustomClaimsBytes is the default of Config.MaxCustomClaimsBytes.
const defaultMaxCustomClaimsBytes = 8 << 10

// claimNameProblem says why a custom claim name is refused, or "".
func claimNameProblem(name string, reserved []string) string {
	if registeredClaims[name] || contains(standardClaims, name) {
		return "registered claim: only the server sets it"
	}
	host, ok := claimNamespace(name)
	if !ok {
		return "not namespaced: a custom claim must be an http or https URL"
	}
	for _, r := range reserved {
		if host == r || strings.HasSuffix(host, "."+r) {
			return "namespace under the reserved host " + r
		}
	}
	return ""
}

// claimNamespace returns the normalised host of a custom claim name. The
// name must be an http or https URL written plainly: the authority is a DNS
// name or IPv4 address exactly as parsed (no userinfo, port, percent-encoding
// or IPv6 literal), with no query or fragment. Anything else is refused
// rather than normalised, so no spelling of a reserved host slips past the
// comparison; internationalised hosts count only in their A-label (xn--)
// form, which the comparison sees as is.
func claimNamespace(name string) (string, bool) {
	u, err := url.Parse(name)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(name, "?#") {
		return "", false
	}
	rest, ok := strings.CutPrefix(name, u.Scheme+"://"+u.Host)
	if !ok || (rest != "" && rest[0] != '/') {
		return "", false
	}
	host := normalizeHost(u.Host)
	if !dnsName(host) {
		return "", false
	}
	return host, true
}

// normalizeHost lower-cases a host name and drops the trailing dot of its
// fully-qualified form (RFC 1034 §3.1): "Auth.Example.COM." is
// "auth.example.com".
func normalizeHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// dnsName reports whether h is a lower-case ASCII host name (RFC 1123
// §2.1): dot-separated labels of 1 to 63 letters, digits and hyphens, not
// starting or ending with a hyphen, 253 bytes at most. IPv4 addresses pass.
func dnsName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
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
		return s.ruleEvent(ctx, c, d, out, err)
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
