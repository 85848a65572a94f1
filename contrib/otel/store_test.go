package skotel_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	skotel "github.com/scopekit/scopekit/contrib/otel"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// TestStoreWrapsEveryMethod calls every method of storage.Store (and of
// every directory collection) on the wrapper with zero arguments and
// checks that each is a span of its name with an outcome: a method added
// to the contract but not to the wrapper would reach the embedded store
// without a span and fail here. Tenant and WithClock views are wrapped.
func TestStoreWrapsEveryMethod(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	in, err := skotel.New(skotel.Options{TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)),
		MeterProvider: sdkmetric.NewMeterProvider()})
	if err != nil {
		t.Fatal(err)
	}
	s := in.Store(memory.New())
	storeType := reflect.TypeFor[storage.Store]()
	for i := range storeType.NumMethod() {
		m := storeType.Method(i)
		switch m.Name {
		case "Tenant", "WithClock":
			continue
		}
		f := reflect.ValueOf(s).MethodByName(m.Name)
		if m.Type.NumIn() == 0 { // a directory collection: call each of its methods
			col := call(t, f)[0]
			for j := range col.Type().NumMethod() {
				cm := col.Type().Method(j)
				expectSpan(t, exp, func() { call(t, col.Method(j)) }, "storage."+m.Name+"."+cm.Name)
			}
			continue
		}
		expectSpan(t, exp, func() { call(t, f) }, "storage."+m.Name)
	}
	for name, view := range map[string]storage.Store{"Tenant": s.Tenant("t1"), "WithClock": s.WithClock(time.Now)} {
		expectSpan(t, exp, func() { _, _ = view.GetFamily(context.Background(), "f") }, "storage.GetFamily")
		if _, ok := view.(storage.Checker); ok != isChecker(s) {
			t.Errorf("%s view: Checker %v, want as the wrapper", name, ok)
		}
	}
}

func isChecker(s storage.Store) bool { _, ok := s.(storage.Checker); return ok }

// call invokes f with a background context, new zero records for pointers
// and zero values otherwise.
func call(t *testing.T, f reflect.Value) (out []reflect.Value) {
	t.Helper()
	args := make([]reflect.Value, f.Type().NumIn())
	for i := range args {
		at := f.Type().In(i)
		if at == reflect.TypeFor[context.Context]() {
			args[i] = reflect.ValueOf(context.Background())
		} else if at.Kind() == reflect.Pointer {
			args[i] = reflect.New(at.Elem())
		} else {
			args[i] = reflect.Zero(at)
		}
	}
	return f.Call(args)
}

// expectSpan runs f and wants exactly one more ended span, named name,
// with a method and an outcome attribute.
func expectSpan(t *testing.T, exp *tracetest.InMemoryExporter, f func(), name string) {
	t.Helper()
	f()
	spans := exp.GetSpans()
	exp.Reset()
	if len(spans) != 1 || spans[0].Name != name {
		var names []string
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Errorf("want one span %q, got %v", name, names)
		return
	}
	m := attrMap(spans[0].Attributes)
	if m["scopekit.storage.method"] != strings.TrimPrefix(name, "storage.") || m["scopekit.outcome"] == "" {
		t.Errorf("%s attributes %v", name, m)
	}
}

// TestStorageOutcome names wrapped errors by their storage sentinel.
func TestStorageOutcome(t *testing.T) {
	for err, want := range map[error]string{nil: "ok", storage.ErrNotFound: "not_found",
		errors.Join(errors.New("dial"), storage.ErrUnavailable): "unavailable", context.DeadlineExceeded: "deadline_exceeded",
		errors.New("other"): "error", storage.ErrConflict: "conflict"} {
		if got := skotel.StorageOutcome(err); got != want {
			t.Errorf("StorageOutcome(%v) = %q, want %q", err, got, want)
		}
	}
}
