package skotel

import (
	"context"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// request is what the event hook learns about the request in flight: the
// grant type of a token request.
type request struct {
	mu    sync.Mutex
	grant string
}

type requestKey struct{}

func requestFrom(ctx context.Context) *request {
	r, _ := ctx.Value(requestKey{}).(*request)
	return r
}

// Handler wraps the issuer's handler (authz.Server.Handler, a ServeMux) with
// a server span per request and the request metrics. The span is named by
// method and route ("POST /oauth/token"), the route being the pattern the
// ServeMux matched (never the request's path, which may hold anything), or
// "other" when it matched none; it carries the endpoint, the status, the
// outcome (the OAuth error code of an error answer) and, with EventHook
// installed on the same server, the grant type of a token request.
func (in *Instrumentation) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx := in.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		method := methodName(r.Method)
		ctx, span := in.tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", method)))
		defer span.End()
		info := &request{}
		ctx = context.WithValue(ctx, requestKey{}, info)
		rec := &recorder{ResponseWriter: w}
		r = r.WithContext(ctx)
		next.ServeHTTP(rec, r)

		// ServeMux sets Pattern on the request it was given.
		endpoint := endpointOf(r.Pattern)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		outcome := rec.outcome()
		info.mu.Lock()
		grant := info.grant
		info.mu.Unlock()

		attrs := []attribute.KeyValue{AttrEndpoint.String(endpoint), AttrOutcome.String(outcome),
			attribute.Int("http.response.status_code", status)}
		if grant != "" {
			attrs = append(attrs, AttrGrantType.String(grant))
		}
		if endpoint != "other" {
			span.SetName(method + " " + r.Pattern)
			span.SetAttributes(attribute.String("http.route", r.Pattern))
		} else {
			span.SetName(method + " other")
		}
		span.SetAttributes(attrs...)
		if status >= 500 {
			span.SetStatus(codes.Error, outcome)
		}
		in.requests.Add(ctx, 1, metric.WithAttributes(attrs...))
		in.duration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(AttrEndpoint.String(endpoint)))
	})
}

// methodName bounds the method attribute to the standard methods
// (OpenTelemetry's "_OTHER" for the rest).
func methodName(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}
