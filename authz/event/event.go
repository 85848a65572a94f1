package event

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"
)

// Kind names an event. Its values are stable: hosts match on them.
type Kind string

// The kinds of events.
const (
	// TokenIssued: the token endpoint (or /authorize, for implicit
	// responses) issued tokens.
	TokenIssued Kind = "token.issued"
	// TokenRefused: a token request was refused (Code, Reason).
	TokenRefused Kind = "token.refused"
	// ClientAuthFailed: a client failed to authenticate (RFC 6749 §2.3).
	ClientAuthFailed Kind = "client.auth_failed"
	// RefreshRotated: a refresh token was exchanged for a new one.
	RefreshRotated Kind = "refresh.rotated"
	// RefreshReused: a used refresh token was presented again; its family
	// is revoked (RFC 9700 §4.14.2).
	RefreshReused Kind = "refresh.reused"
	// CodeReplayed: a used authorization code was presented again; its
	// family is revoked (RFC 6749 §4.1.2).
	CodeReplayed Kind = "code.replayed"
	// ConsentGranted: a user granted a client scopes on the consent page.
	ConsentGranted Kind = "consent.granted"
	// ConsentRevoked: a user's consent was withdrawn, its families revoked.
	ConsentRevoked Kind = "consent.revoked"
	// LoginRequired: /authorize sent the user to sign in, or answered
	// login_required for prompt=none.
	LoginRequired Kind = "login.required"
	// RuleDenied: a rule denied an issuance (Transaction.Deny).
	RuleDenied Kind = "rule.denied"
	// RuleFailed: a rule failed (an error, a panic, its deadline).
	RuleFailed Kind = "rule.failed"
	// TokenRevoked: a token or its family was revoked at the revocation
	// endpoint (RFC 7009).
	TokenRevoked Kind = "token.revoked"
	// KeyCreated: a signing key was created (Target: the kid).
	KeyCreated Kind = "key.created"
	// KeyRotated: a successor key was made by rotation (Target: the kid).
	KeyRotated Kind = "key.rotated"
	// KeyRetired: a signing key stopped signing; it is still published.
	KeyRetired Kind = "key.retired"
	// KeyRemoved: a signing key was removed from the key set.
	KeyRemoved Kind = "key.removed"
	// StorageUnavailable: a request failed because the store did not answer.
	StorageUnavailable Kind = "storage.unavailable"
	// AdminWrite: a management write (Actor, Target, Action, Outcome).
	AdminWrite Kind = "admin.write"
)

// Outcomes of an AdminWrite.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Target names what a management write or key event touched.
type Target struct {
	// Kind is the record kind: "api", "client", "client_grant", "user",
	// "role", "group", "consent", "family", "key".
	Kind string
	// ID is the record's key (a kid for keys, a family id for families).
	ID string
}

// Event is one security-relevant outcome. It holds identifiers only, never
// a secret, an authorization code, a token or a refresh token.
type Event struct {
	// Kind says what happened.
	Kind Kind
	// Time is when, on the server's clock.
	Time time.Time
	// Issuer is the issuer (one per tenant) the event happened at.
	Issuer string
	// Client is the client id, when a client is involved.
	Client string
	// Subject is the user (or, for client credentials, the client).
	Subject string
	// Audience is the API identifier.
	Audience string
	// Scopes are the scopes granted, or requested when refused.
	Scopes []string
	// Grant is the grant type of a token request.
	Grant string
	// Code is the OAuth error code of a refusal (RFC 6749 §5.2).
	Code string
	// Reason is a fixed description: the error's description, a rule's
	// name and denial reason, a storage failure's kind.
	Reason string
	// Actor is who made a management write (ActorFrom of its context).
	Actor string
	// Target is the record a management write or key event touched.
	Target Target
	// Action is the management action: "create", "update", "delete", ...
	Action string
	// Outcome is OutcomeSuccess or OutcomeFailure for management writes.
	Outcome string
	// Attrs holds further identifiers by name: "family", "jti", "kid",
	// "rule", "alg", "method".
	Attrs map[string]string
}

// Clone returns a copy of e that shares no memory with it.
func (e Event) Clone() Event {
	e.Scopes = slices.Clone(e.Scopes)
	e.Attrs = maps.Clone(e.Attrs)
	return e
}

// Handler receives an event. It must not keep e's slices or map past its
// return without cloning them (Event.Clone).
type Handler func(ctx context.Context, e Event)

// Hook wraps the next handler: it returns a handler that may inspect or
// change the event and calls next to pass it on (or does not, to drop it).
type Hook func(next Handler) Handler

// Chain returns the handler that runs hooks in order, the first outermost,
// and last at the end. A nil hook is skipped.
func Chain(last Handler, hooks ...Hook) Handler {
	h := last
	for i := len(hooks) - 1; i >= 0; i-- {
		if hooks[i] != nil {
			h = hooks[i](h)
		}
	}
	return h
}

type actorKey struct{}

// WithActor returns a context naming who makes the management writes done
// with it: the AdminWrite events of those writes carry it as Actor.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor WithActor put in ctx, or "".
func ActorFrom(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

// Level is the slog level an event is logged at: Error for a storage
// outage; Warn for a refresh-token reuse, a code replay, a failed client
// authentication, a failed rule and a failed management write; Info for a
// refused request, a denial, a revocation, consent, key changes and
// management writes; Debug for issuance, rotation and a sign-in asked for,
// the everyday traffic.
func Level(e Event) slog.Level {
	switch e.Kind {
	case StorageUnavailable:
		return slog.LevelError
	case RefreshReused, CodeReplayed, ClientAuthFailed, RuleFailed:
		return slog.LevelWarn
	case TokenIssued, RefreshRotated, LoginRequired:
		return slog.LevelDebug
	case AdminWrite:
		if e.Outcome == OutcomeFailure {
			return slog.LevelWarn
		}
	}
	return slog.LevelInfo
}
