package skotel_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	skotel "github.com/scopekit/scopekit/contrib/otel"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/event"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// An instrumented issuer: the store, the handler and the event hooks are
// wrapped by one Instrumentation. A client-credentials request is a server
// span named by its route, with the storage call it made as a child span
// (which ends first).
func Example() {
	ctx := context.Background()
	spans := tracetest.NewInMemoryExporter()
	in, err := skotel.New(skotel.Options{
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)),
		MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
	})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := authz.New(ctx, authz.Config{
		Issuer:     "https://auth.example.com/",
		Store:      in.Store(memory.New()),
		Grants:     []authz.Grant{grant.ClientCredentials{}},
		EventHooks: []event.Hook{in.EventHook()},
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	m := admin.New(srv)
	_ = m.CreateAPI(ctx, &storage.API{Identifier: "https://api.example.com", Name: "api", Scopes: []storage.Scope{{Name: "read"}}})
	secret, _ := m.CreateClient(ctx, &storage.Client{ID: "svc", Name: "svc", GrantTypes: []string{oauth.GrantClientCredentials}})
	_ = m.CreateClientGrant(ctx, &storage.ClientGrant{ClientID: "svc", Audience: "https://api.example.com", Scopes: []string{"read"}})
	handler := in.Handler(srv.Handler())
	spans.Reset()

	form := url.Values{"grant_type": {"client_credentials"}, "audience": {"https://api.example.com"}}
	r := httptest.NewRequest(http.MethodPost, "https://auth.example.com/oauth/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("svc", secret)
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)

	fmt.Println(w.Code)
	for _, s := range spans.GetSpans() {
		fmt.Println(s.Name)
	}
	// Output:
	// 200
	// storage.Resolve
	// POST /oauth/token
}
