package skotel

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
)

// Authorizer returns a copy of a that counts its Authorize results
// (MetricAuthorize: the outcome, "ok" or the OAuth error code, and whether
// the verified-token cache answered; the cache hits are the results with
// scopekit.authorize.cached true) and adds an "authorize" event to the
// current span. It replaces a result hook a already had
// (resource.Authorizer.WithResultHook).
func (in *Instrumentation) Authorizer(a *resource.Authorizer) *resource.Authorizer {
	return a.WithResultHook(func(ctx context.Context, r resource.Result) {
		outcome := "ok"
		if r.Err != nil {
			outcome = "error"
			if e, ok := oauth.As(r.Err); ok {
				outcome = codeOutcome(e.Code)
			}
		}
		attrs := []attribute.KeyValue{AttrOutcome.String(outcome), AttrCached.Bool(r.Cached)}
		in.authorize.Add(ctx, 1, metric.WithAttributes(attrs...))
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.AddEvent("authorize", trace.WithAttributes(attrs...))
		}
	})
}
