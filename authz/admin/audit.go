package admin

import (
	"context"

	"github.com/scopekit/scopekit/authz/event"
	"github.com/scopekit/scopekit/storage"
)

// ListAuditLogs returns a page of the tenant's audit log, newest first:
// every management write and the audited security events (authz.AuditedKinds),
// kept for Config.AuditRetention and at most Config.AuditMaxRecords. The
// log fills only when the server's Config.AuditLog is set. A malformed
// cursor, a negative limit or too many kinds is storage.ErrInvalid.
func (m *Admin) ListAuditLogs(ctx context.Context, q storage.AuditQuery) (*storage.AuditPage, error) {
	return m.srv.ListAudit(ctx, q)
}

// audit reports a management write as an event.AdminWrite: the actor of
// ctx (event.WithActor), the record's kind and key, the action, and
// whether it succeeded. Called deferred with the write's named error.
func (m *Admin) audit(ctx context.Context, kind, id, action string, err *error) {
	e := event.Event{Kind: event.AdminWrite, Actor: event.ActorFrom(ctx), Target: event.Target{Kind: kind, ID: id},
		Action: action, Outcome: event.OutcomeSuccess}
	if *err != nil {
		e.Outcome = event.OutcomeFailure
	}
	m.srv.Emit(ctx, e)
}
