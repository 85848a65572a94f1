package event

import (
	"context"
	"log/slog"
	"slices"
)

// The attribute names of a logged event. They are stable: hosts index on
// them. Empty fields are left out.
const (
	AttrKind       = "event"
	AttrIssuer     = "issuer"
	AttrClient     = "client_id"
	AttrSubject    = "sub"
	AttrAudience   = "aud"
	AttrScopes     = "scope"
	AttrGrant      = "grant_type"
	AttrCode       = "error"
	AttrReason     = "reason"
	AttrActor      = "actor"
	AttrTargetKind = "target_kind"
	AttrTargetID   = "target_id"
	AttrAction     = "action"
	AttrOutcome    = "outcome"
	// AttrAttrs groups Event.Attrs, each under its own name.
	AttrAttrs = "attrs"
)

// Message is the log message of every event.
const Message = "authz: event"

// Logger returns the handler that writes events to l at Level, with the
// Attr* names. The time of the record is the logger's; the event's own Time
// is not repeated.
func Logger(l *slog.Logger) Handler {
	return func(ctx context.Context, e Event) {
		lvl := Level(e)
		if !l.Enabled(ctx, lvl) {
			return
		}
		l.LogAttrs(ctx, lvl, Message, Attrs(e)...)
	}
}

// Attrs returns e as slog attributes, in a fixed order, empty fields left
// out; Event.Attrs come as a group sorted by name.
func Attrs(e Event) []slog.Attr {
	out := make([]slog.Attr, 0, 16)
	add := func(k, v string) {
		if v != "" {
			out = append(out, slog.String(k, v))
		}
	}
	add(AttrKind, string(e.Kind))
	add(AttrIssuer, e.Issuer)
	add(AttrClient, e.Client)
	add(AttrSubject, e.Subject)
	add(AttrAudience, e.Audience)
	if len(e.Scopes) > 0 {
		out = append(out, slog.Any(AttrScopes, slices.Clone(e.Scopes)))
	}
	add(AttrGrant, e.Grant)
	add(AttrCode, e.Code)
	add(AttrReason, e.Reason)
	add(AttrActor, e.Actor)
	add(AttrTargetKind, e.Target.Kind)
	add(AttrTargetID, e.Target.ID)
	add(AttrAction, e.Action)
	add(AttrOutcome, e.Outcome)
	if len(e.Attrs) > 0 {
		names := make([]string, 0, len(e.Attrs))
		for k := range e.Attrs {
			names = append(names, k)
		}
		slices.Sort(names)
		group := make([]any, 0, len(names))
		for _, k := range names {
			group = append(group, slog.String(k, e.Attrs[k]))
		}
		out = append(out, slog.Group(AttrAttrs, group...))
	}
	return out
}
