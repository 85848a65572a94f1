// Package skotel instruments a scopekit issuer with OpenTelemetry: traces
// and metrics of its HTTP endpoints (Instrumentation.Handler), of its
// storage calls (Instrumentation.Store), of resource-server decisions
// (Instrumentation.Authorizer) and of its security events
// (Instrumentation.EventHook).
//
// It is a module of its own (github.com/scopekit/scopekit/contrib/otel), so
// that the SDK never depends on OpenTelemetry. No attribute ever holds a
// token, a code, a secret, a user code or a raw request path: endpoints are
// named by their route, outcomes by their OAuth error code (RFC 6749 §5.2)
// from a fixed list, grant types from a fixed list, storage calls by their
// driver-agnostic method name. See docs/OPERATIONS.md, "OpenTelemetry".
package skotel
