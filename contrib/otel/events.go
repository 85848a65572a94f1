package skotel

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/scopekit/scopekit/authz/event"
)

// EventHook returns an event.Hook (authz.Config.EventHooks) that counts
// every security event (MetricEvents: kind, error code, grant type), adds
// it as a span event to the current span (with the client id), tells
// Handler the grant type of the token request in flight, and passes the
// event on. Events carry no secrets (see authz/event); of their fields only
// the kind, the error code, the grant type and the client id are recorded,
// the first three from fixed lists.
func (in *Instrumentation) EventHook() event.Hook {
	return func(next event.Handler) event.Handler {
		return func(ctx context.Context, e event.Event) {
			attrs := []attribute.KeyValue{AttrEventKind.String(string(e.Kind))}
			if e.Code != "" {
				attrs = append(attrs, AttrOutcome.String(codeOutcome(e.Code)))
			}
			if g := grantName(e.Grant); g != "" {
				attrs = append(attrs, AttrGrantType.String(g))
				if e.Kind == event.TokenIssued || e.Kind == event.TokenRefused {
					if r := requestFrom(ctx); r != nil {
						r.mu.Lock()
						r.grant = g
						r.mu.Unlock()
					}
				}
			}
			in.events.Add(ctx, 1, metric.WithAttributes(attrs...))
			if span := trace.SpanFromContext(ctx); span.IsRecording() {
				if e.Client != "" {
					attrs = append(attrs, AttrClientID.String(e.Client))
				}
				span.AddEvent(string(e.Kind), trace.WithAttributes(attrs...))
			}
			next(ctx, e)
		}
	}
}
