package authz

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/scopekit/scopekit/authz/event"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

const (
	defaultAuditRetention  = 30 * 24 * time.Hour
	defaultAuditMaxRecords = 10000
)

// auditDefaults fills in and checks the audit log's bounds.
func (c *Config) auditDefaults() error {
	if c.AuditRetention < 0 || c.AuditMaxRecords < 0 {
		return errors.New("authz: negative AuditRetention or AuditMaxRecords")
	}
	c.AuditRetention = orDefault(c.AuditRetention, defaultAuditRetention)
	if c.AuditMaxRecords == 0 {
		c.AuditMaxRecords = defaultAuditMaxRecords
	}
	return nil
}

// AuditedKinds are the event kinds Config.AuditLog stores: the security
// events an operator answers for and every management write. Issuance,
// refusals, rotations and outages are logged only (they are the traffic).
var AuditedKinds = []event.Kind{
	event.ClientAuthFailed, event.RefreshReused, event.CodeReplayed, event.ConsentGranted, event.ConsentRevoked,
	event.TokenRevoked, event.KeyCreated, event.KeyRotated, event.KeyRetired, event.KeyRemoved, event.AdminWrite,
}

// eventChain is the audit sink (when enabled), then Config.EventHooks, then
// the logger. The audit sink runs first so that no hook can keep an
// audited event out of the audit log.
func (s *Server) eventChain() event.Handler {
	hooks := s.cfg.EventHooks
	if s.cfg.AuditLog {
		hooks = append([]event.Hook{s.auditHook}, hooks...)
	}
	s.hooked = len(hooks) > 0
	return event.Chain(event.Logger(s.cfg.Logger), hooks...)
}

// Emit delivers e to the event chain (Config.EventHooks, the audit log,
// the logger), with Time set to the server's clock when zero and Issuer to
// the server's issuer. e is copied first: the caller keeps its slices and
// map. The management layer (authz/admin) reports its writes through it.
func (s *Server) Emit(ctx context.Context, e event.Event) { s.emit(ctx, e) }

func (s *Server) emit(ctx context.Context, e event.Event) {
	if !s.hooked && !s.cfg.Logger.Enabled(ctx, event.Level(e)) {
		// Nothing would see it: no hook, and the logger drops its level.
		return
	}
	e = e.Clone()
	if e.Time.IsZero() {
		e.Time = s.cfg.Now()
	}
	e.Issuer = s.cfg.Issuer
	s.events(ctx, e)
}

// auditHook stores the audited events, then passes every event on.
func (s *Server) auditHook(next event.Handler) event.Handler {
	return func(ctx context.Context, e event.Event) {
		if slices.Contains(AuditedKinds, e.Kind) {
			s.audit(ctx, e)
		}
		next(ctx, e)
	}
}

// audit appends e to the tenant's audit log; a failure is logged only.
func (s *Server) audit(ctx context.Context, e event.Event) {
	r := &storage.AuditRecord{
		Time: e.Time.UTC(), Kind: string(e.Kind), Client: e.Client, Subject: e.Subject, Audience: e.Audience,
		Scopes: slices.Clone(e.Scopes), Grant: e.Grant, Code: e.Code, Reason: e.Reason, Actor: e.Actor,
		TargetKind: e.Target.Kind, TargetID: e.Target.ID, Action: e.Action, Outcome: e.Outcome,
		ExpiresAt: e.Time.Add(s.cfg.AuditRetention).UTC(),
	}
	if len(e.Attrs) > 0 {
		r.Attrs = make(map[string]string, len(e.Attrs))
		for k, v := range e.Attrs {
			r.Attrs[k] = v
		}
	}
	// The request may end (its ctx cancelled) as soon as it is answered;
	// the record is still written, within the store's own timeout.
	if err := s.store.AppendAudit(context.WithoutCancel(ctx), r, s.cfg.AuditMaxRecords); err != nil {
		s.cfg.Logger.Error("authz: audit record not stored", event.AttrKind, string(e.Kind), "cause", err)
	}
}

// ListAudit returns a page of this tenant's audit log, newest first.
func (s *Server) ListAudit(ctx context.Context, q storage.AuditQuery) (*storage.AuditPage, error) {
	return s.store.ListAudit(ctx, q)
}

// The emissions, one helper per outcome, so that each call site is one line.

// issued reports tokens minted for a decision.
func (s *Server) issued(ctx context.Context, c *storage.Client, d *Decision) {
	e := event.Event{Kind: event.TokenIssued, Client: c.ID, Subject: d.Subject, Audience: apiID(d.API), Scopes: d.Scopes, Grant: d.GrantType}
	if d.Family != "" {
		e.Attrs = map[string]string{"family": d.Family}
	}
	if d.Actor != nil {
		// A delegated token exchange: who acts for the subject (RFC 8693).
		if e.Attrs == nil {
			e.Attrs = map[string]string{}
		}
		e.Attrs["actor"] = d.Actor.Subject()
	}
	s.emit(ctx, e)
}

// refused reports a token request that failed with e: a failed client
// authentication, a storage outage or another refusal.
func (s *Server) refused(ctx context.Context, req *TokenRequest, e *oauth.Error) {
	ev := event.Event{Kind: event.TokenRefused, Client: req.ClientID, Audience: req.Audience, Scopes: req.Scopes,
		Grant: req.GrantType, Code: e.Code, Reason: e.Description}
	switch {
	case e.Is(oauth.ErrInvalidClient):
		ev.Kind, ev.Attrs = event.ClientAuthFailed, map[string]string{"method": req.AuthMethod}
	case e.Is(oauth.ErrTemporarilyUnavailable):
		ev.Kind = event.StorageUnavailable
		if cause := errors.Unwrap(e); cause != nil {
			ev.Reason = cause.Error()
		}
	}
	s.emit(ctx, ev)
}

// authFailed reports a failed client authentication outside the token
// endpoint (introspection, revocation) and returns err.
func (s *Server) authFailed(ctx context.Context, req *TokenRequest, err error) error {
	if e, ok := oauth.As(err); ok && e.Is(oauth.ErrInvalidClient) {
		s.emit(ctx, event.Event{Kind: event.ClientAuthFailed, Client: req.ClientID, Code: e.Code, Reason: e.Description,
			Attrs: map[string]string{"method": req.AuthMethod}})
	}
	return err
}

// familyEvent reports an event of a token family (rotation, reuse, code
// replay).
func (s *Server) familyEvent(ctx context.Context, kind event.Kind, client, subject, family string) {
	e := event.Event{Kind: kind, Client: client, Subject: subject, Attrs: map[string]string{"family": family}}
	if kind != event.RefreshRotated {
		e.Code = oauth.ErrInvalidGrant.String()
	}
	s.emit(ctx, e)
}

// refreshRotated, refreshReused and codeReplayed report a family's events.
func (s *Server) refreshRotated(ctx context.Context, client, subject, family string) {
	s.familyEvent(ctx, event.RefreshRotated, client, subject, family)
}

func (s *Server) refreshReused(ctx context.Context, client, subject, family string) {
	s.familyEvent(ctx, event.RefreshReused, client, subject, family)
}

func (s *Server) codeReplayed(ctx context.Context, client, family string) {
	s.familyEvent(ctx, event.CodeReplayed, client, "", family)
}

// consented reports consent granted when err is nil, and returns err.
func (s *Server) consented(ctx context.Context, user, client, audience string, scopes []string, err error) error {
	if err == nil {
		s.consentEvent(ctx, event.ConsentGranted, user, client, audience, scopes)
	}
	return err
}

// loginRequired reports that /authorize needs the user to sign in: the
// login page is shown, or with prompt=none login_required is answered.
func (s *Server) loginRequired(ctx context.Context, ar *storage.AuthRequest, none bool) {
	e := event.Event{Kind: event.LoginRequired, Client: ar.ClientID, Audience: ar.Audience, Scopes: ar.Scopes}
	if none {
		e.Code = oauth.ErrLoginRequired.String()
	}
	s.emit(ctx, e)
}

// tokenRevoked reports a revocation at the revocation endpoint (RFC 7009)
// of a token family or an access token's jti.
func (s *Server) tokenRevoked(ctx context.Context, client, subject, what, id string) {
	s.emit(ctx, event.Event{Kind: event.TokenRevoked, Client: client, Subject: subject, Attrs: map[string]string{what: id}})
}

// consentRevoked is the kind of a withdrawn consent, for consent.go.
const consentRevoked = event.ConsentRevoked

// consentEvent reports consent granted or revoked.
func (s *Server) consentEvent(ctx context.Context, kind event.Kind, user, client, audience string, scopes []string) {
	s.emit(ctx, event.Event{Kind: kind, Subject: user, Client: client, Audience: audience, Scopes: scopes})
}

// ruleEvent reports a rule's denial (access_denied, with the rule's name
// and reason) or the chain's failure (server_error) of a decision, and
// returns err.
func (s *Server) ruleEvent(ctx context.Context, c *storage.Client, d *Decision, out *ruleOutcome, err error) error {
	e := AsError(err)
	ev := event.Event{Kind: event.RuleFailed, Client: c.ID, Subject: d.Subject, Audience: apiID(d.API), Scopes: d.Scopes,
		Grant: d.GrantType, Code: e.Code}
	if e.Is(oauth.ErrAccessDenied) {
		ev.Kind, ev.Reason = event.RuleDenied, e.Description
		if out != nil && len(out.trace) > 0 {
			ev.Attrs = map[string]string{"rule": out.trace[len(out.trace)-1].Rule}
		}
	}
	s.emit(ctx, ev)
	return err
}

// keyEvent reports a signing key's creation, rotation, retirement or
// removal.
func keyEvent(kind event.Kind, kid, alg string) event.Event {
	e := event.Event{Kind: kind, Target: event.Target{Kind: "key", ID: kid}, Attrs: map[string]string{"kid": kid}}
	if alg != "" {
		e.Attrs["alg"] = alg
	}
	return e
}
