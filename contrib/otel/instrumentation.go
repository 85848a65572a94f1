package skotel

import (
	"errors"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/scopekit/scopekit/contrib/otel"

// Attribute keys set by this package.
const (
	// AttrEndpoint names the issuer endpoint: token, authorize, consent,
	// introspection, revocation, userinfo, device_authorization, device,
	// jwks, discovery, or other for a path the issuer does not serve.
	AttrEndpoint = attribute.Key("scopekit.endpoint")
	// AttrOutcome is "ok", an OAuth error code, or "error" for a failure
	// without a known code; for storage calls see StorageOutcome.
	AttrOutcome = attribute.Key("scopekit.outcome")
	// AttrGrantType is the grant type of a token request (from the
	// token.issued and token.refused events), or "other".
	AttrGrantType = attribute.Key("oauth.grant_type")
	// AttrStorageMethod is the storage.Store method, "Clients.Get" for a
	// collection's.
	AttrStorageMethod = attribute.Key("scopekit.storage.method")
	// AttrEventKind is an event's kind (event.Kind).
	AttrEventKind = attribute.Key("scopekit.event.kind")
	// AttrClientID is the client id of an event, on span events only.
	AttrClientID = attribute.Key("oauth.client_id")
	// AttrCached reports that an Authorize was answered by the
	// verified-token cache.
	AttrCached = attribute.Key("scopekit.authorize.cached")
)

// Metric names.
const (
	// MetricRequests counts the issuer's requests by endpoint, grant type,
	// outcome and status.
	MetricRequests = "scopekit.requests"
	// MetricRequestDuration is the latency of the issuer's requests by
	// endpoint, in seconds.
	MetricRequestDuration = "scopekit.request.duration"
	// MetricAuthorize counts Authorize results by outcome and cache use.
	MetricAuthorize = "scopekit.authorize.results"
	// MetricStorageErrors counts storage calls that returned an error, by
	// method and outcome.
	MetricStorageErrors = "scopekit.storage.errors"
	// MetricEvents counts security events by kind, error code and grant type.
	MetricEvents = "scopekit.events"
)

// Options configures an Instrumentation. Zero values take OpenTelemetry's
// global providers and propagator.
type Options struct {
	// TracerProvider makes the tracer; nil means otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// MeterProvider makes the meter; nil means otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// Propagator reads the caller's trace context from request headers;
	// nil means otel.GetTextMapPropagator().
	Propagator propagation.TextMapPropagator
}

// Instrumentation holds the tracer and the instruments; one serves a whole
// issuer and is safe for concurrent use.
type Instrumentation struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator

	requests      metric.Int64Counter
	duration      metric.Float64Histogram
	authorize     metric.Int64Counter
	storageErrors metric.Int64Counter
	events        metric.Int64Counter
}

// New returns the instrumentation of o's providers.
func New(o Options) (*Instrumentation, error) {
	if o.TracerProvider == nil {
		o.TracerProvider = otel.GetTracerProvider()
	}
	if o.MeterProvider == nil {
		o.MeterProvider = otel.GetMeterProvider()
	}
	if o.Propagator == nil {
		o.Propagator = otel.GetTextMapPropagator()
	}
	m := o.MeterProvider.Meter(ScopeName)
	in := &Instrumentation{tracer: o.TracerProvider.Tracer(ScopeName), propagator: o.Propagator}
	var errs [5]error
	in.requests, errs[0] = m.Int64Counter(MetricRequests, metric.WithUnit("{request}"),
		metric.WithDescription("Issuer requests by endpoint, grant type and outcome."))
	in.duration, errs[1] = m.Float64Histogram(MetricRequestDuration, metric.WithUnit("s"),
		metric.WithDescription("Issuer request latency by endpoint."))
	in.authorize, errs[2] = m.Int64Counter(MetricAuthorize, metric.WithUnit("{call}"),
		metric.WithDescription("Resource-server Authorize results by outcome and verified-token cache use."))
	in.storageErrors, errs[3] = m.Int64Counter(MetricStorageErrors, metric.WithUnit("{call}"),
		metric.WithDescription("Storage calls that returned an error, by method and outcome."))
	in.events, errs[4] = m.Int64Counter(MetricEvents, metric.WithUnit("{event}"),
		metric.WithDescription("Security events by kind."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return in, nil
}
