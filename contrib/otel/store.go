package skotel

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/scopekit/scopekit/storage"
)

// Store wraps a storage.Store so that every call is a client span named
// "storage.<Method>" ("storage.Clients.Get" for a collection's) carrying
// the method and its outcome (StorageOutcome), and every error is counted
// (MetricStorageErrors). No argument and no error text is recorded: keys
// are hashes, user codes and ids. Views (Tenant, WithClock) are wrapped
// too, and the wrapper keeps the optional storage.Checker and
// storage.KeyWatcher of s. Give the wrapped store to authz.Config.Store.
func (in *Instrumentation) Store(s storage.Store) storage.Store {
	t := &tracedStore{Store: s, in: in}
	c, checks := s.(storage.Checker)
	w, watches := s.(storage.KeyWatcher)
	switch {
	case checks && watches:
		return checkWatchStore{t, checker{t, c}, watcher{t, w}}
	case checks:
		return checkStore{t, checker{t, c}}
	case watches:
		return watchStore{t, watcher{t, w}}
	}
	return t
}

var (
	_ storage.Store      = (*tracedStore)(nil)
	_ storage.Checker    = checkStore{}
	_ storage.KeyWatcher = watchStore{}
	_ storage.Checker    = checkWatchStore{}
	_ storage.KeyWatcher = checkWatchStore{}
)

type checkStore struct {
	*tracedStore
	checker
}

type watchStore struct {
	*tracedStore
	watcher
}

type checkWatchStore struct {
	*tracedStore
	checker
	watcher
}

type checker struct {
	t *tracedStore
	c storage.Checker
}

// Check implements storage.Checker.
func (c checker) Check(ctx context.Context) error {
	return do0(ctx, c.t.in, "Check", func(ctx context.Context) error { return c.c.Check(ctx) })
}

type watcher struct {
	t *tracedStore
	w storage.KeyWatcher
}

// WatchKeys implements storage.KeyWatcher.
func (w watcher) WatchKeys(ctx context.Context) (<-chan struct{}, error) {
	// The subscription outlives the call: the span covers subscribing only.
	return do(ctx, w.t.in, "WatchKeys", func(context.Context) (<-chan struct{}, error) { return w.w.WatchKeys(ctx) })
}

// StorageOutcome names a storage error for the outcome attribute: "ok",
// "not_found", "duplicate", "already_used", "revoked", "conflict",
// "invalid", "too_many", "expired", "slow_down", "corrupt",
// "unavailable", "canceled", "deadline_exceeded" or "error". The spans
// of corrupt, unavailable, deadline_exceeded and error calls have status
// Error; the others are answers of the storage contract.
func StorageOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, storage.ErrNotFound):
		return "not_found"
	case errors.Is(err, storage.ErrDuplicate):
		return "duplicate"
	case errors.Is(err, storage.ErrAlreadyUsed):
		return "already_used"
	case errors.Is(err, storage.ErrRevoked):
		return "revoked"
	case errors.Is(err, storage.ErrConflict):
		return "conflict"
	case errors.Is(err, storage.ErrInvalid):
		return "invalid"
	case errors.Is(err, storage.ErrTooMany):
		return "too_many"
	case errors.Is(err, storage.ErrExpired):
		return "expired"
	case errors.Is(err, storage.ErrSlowDown):
		return "slow_down"
	case errors.Is(err, storage.ErrCorrupt):
		return "corrupt"
	case errors.Is(err, storage.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	}
	return "error"
}

// failure reports whether an outcome is a failure rather than an answer.
func failure(outcome string) bool {
	switch outcome {
	case "corrupt", "unavailable", "deadline_exceeded", "error":
		return true
	}
	return false
}

// do runs one storage call in a span named after method.
func do[T any](ctx context.Context, in *Instrumentation, method string, call func(context.Context) (T, error)) (T, error) {
	ctx, span := in.tracer.Start(ctx, "storage."+method, trace.WithSpanKind(trace.SpanKindClient))
	defer span.End()
	v, err := call(ctx)
	outcome := StorageOutcome(err)
	span.SetAttributes(AttrStorageMethod.String(method), AttrOutcome.String(outcome))
	if failure(outcome) {
		span.SetStatus(codes.Error, outcome)
	}
	if err != nil {
		in.storageErrors.Add(ctx, 1, metric.WithAttributes(AttrStorageMethod.String(method), AttrOutcome.String(outcome)))
	}
	return v, err
}

// do0 is do for a call that returns an error only.
func do0(ctx context.Context, in *Instrumentation, method string, call func(context.Context) error) error {
	_, err := do(ctx, in, method, func(ctx context.Context) (struct{}, error) { return struct{}{}, call(ctx) })
	return err
}

// tracedStore embeds the store it wraps and overrides every method.
type tracedStore struct {
	storage.Store
	in *Instrumentation
}

// Tenant implements storage.Store: the view is wrapped too.
func (t *tracedStore) Tenant(id string) storage.Store { return t.in.Store(t.Store.Tenant(id)) }

// WithClock implements storage.Store: the view is wrapped too.
func (t *tracedStore) WithClock(now func() time.Time) storage.Store {
	return t.in.Store(t.Store.WithClock(now))
}
