package skotel_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	skotel "github.com/scopekit/scopekit/contrib/otel"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/event"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

const (
	issuer = "https://auth.example.com/"
	api    = "https://api.example.com"
)

// harness is an instrumented issuer with in-memory exporters.
type harness struct {
	t       *testing.T
	spans   *tracetest.InMemoryExporter
	reader  *sdkmetric.ManualReader
	in      *skotel.Instrumentation
	srv     *authz.Server
	handler http.Handler
	secret  string
	store   *failing
}

// failing is a store whose Resolve fails as an outage when down is set.
type failing struct {
	storage.Store
	down bool
}

func (f *failing) Resolve(ctx context.Context, clientID, audience string) (*storage.Resolution, error) {
	if f.down {
		return nil, storage.ErrUnavailable
	}
	return f.Store.Resolve(ctx, clientID, audience)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(h.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	in, err := skotel.New(skotel.Options{TracerProvider: tp, MeterProvider: mp})
	if err != nil {
		t.Fatal(err)
	}
	h.in = in
	h.store = &failing{Store: memory.New()}
	login := authz.LoginFuncs{
		SessionFunc: func(*http.Request) (*authz.Session, error) { return nil, nil },
		ChallengeFunc: func(w http.ResponseWriter, r *http.Request, returnTo string) {
			http.Redirect(w, r, "/login", http.StatusFound)
		},
	}
	ctx := context.Background()
	h.srv, err = authz.New(ctx, authz.Config{
		Issuer:     issuer,
		Store:      in.Store(h.store),
		Grants:     []authz.Grant{grant.ClientCredentials{}, grant.AuthorizationCode{}},
		Login:      login,
		Logger:     slog.New(slog.DiscardHandler),
		EventHooks: []event.Hook{in.EventHook()},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := admin.New(h.srv)
	if err := m.CreateAPI(ctx, &storage.API{Identifier: api, Name: "api", Scopes: []storage.Scope{{Name: "read"}}}); err != nil {
		t.Fatal(err)
	}
	h.secret, err = m.CreateClient(ctx, &storage.Client{ID: "svc", Name: "Service", GrantTypes: []string{oauth.GrantClientCredentials}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CreateClientGrant(ctx, &storage.ClientGrant{ClientID: "svc", Audience: api, Scopes: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreateClient(ctx, &storage.Client{ID: "web", Name: "Web", Public: true,
		GrantTypes: []string{oauth.GrantAuthorizationCode}, RedirectURIs: []string{"https://app.example.com/cb"}}); err != nil {
		t.Fatal(err)
	}
	h.handler = in.Handler(h.srv.Handler())
	h.spans.Reset()
	return h
}

// post sends a form to the issuer with the client's Basic credentials.
func (h *harness) post(path string, form url.Values, user, pass string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "https://auth.example.com"+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		r.SetBasicAuth(user, pass)
	}
	w := httptest.NewRecorder()
	h.handler.ServeHTTP(w, r)
	return w
}

func (h *harness) get(target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w
}

// token issues a client-credentials access token over HTTP.
func (h *harness) token() string {
	h.t.Helper()
	w := h.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "audience": {api}}, "svc", h.secret)
	if w.Code != http.StatusOK {
		h.t.Fatalf("token: %d %s", w.Code, w.Body)
	}
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.AccessToken == "" {
		h.t.Fatalf("token response %s: %v", w.Body, err)
	}
	return resp.AccessToken
}

// span returns the one ended span of the name.
func (h *harness) span(name string) tracetest.SpanStub {
	h.t.Helper()
	var found []tracetest.SpanStub
	for _, s := range h.spans.GetSpans() {
		if s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		h.t.Fatalf("%d spans named %q, want 1; spans: %v", len(found), name, h.spanNames())
	}
	return found[0]
}

func (h *harness) spanNames() []string {
	var names []string
	for _, s := range h.spans.GetSpans() {
		names = append(names, s.Name)
	}
	return names
}

func attrMap(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

// wantAttrs fails unless got holds every attribute of want.
func wantAttrs(t *testing.T, what string, got []attribute.KeyValue, want map[string]string) {
	t.Helper()
	m := attrMap(got)
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s: %s = %q, want %q (all: %v)", what, k, m[k], v, m)
		}
	}
}

// metrics collects the metrics and returns, by instrument name, the
// attribute sets of its data points with their values.
func (h *harness) metrics() map[string][]point {
	h.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		h.t.Fatal(err)
	}
	out := map[string][]point{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{attrMap(p.Attributes.ToSlice()), float64(p.Value)})
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{attrMap(p.Attributes.ToSlice()), float64(p.Count)})
				}
			}
		}
	}
	return out
}

type point struct {
	attrs map[string]string
	value float64
}

// count returns the value of the data point of name whose attributes hold
// want (0 when none).
func count(ms map[string][]point, name string, want map[string]string) float64 {
	var n float64
next:
	for _, p := range ms[name] {
		for k, v := range want {
			if p.attrs[k] != v {
				continue next
			}
		}
		n += p.value
	}
	return n
}

// noSecrets fails when any span, span event or metric attribute value
// holds one of the secrets.
func (h *harness) noSecrets(secrets ...string) {
	h.t.Helper()
	var values []string
	for _, s := range h.spans.GetSpans() {
		values = append(values, s.Name)
		for _, v := range attrMap(s.Attributes) {
			values = append(values, v)
		}
		for _, e := range s.Events {
			values = append(values, e.Name)
			for _, v := range attrMap(e.Attributes) {
				values = append(values, v)
			}
		}
	}
	for _, ps := range h.metrics() {
		for _, p := range ps {
			for _, v := range p.attrs {
				values = append(values, v)
			}
		}
	}
	for _, s := range secrets {
		if s == "" {
			h.t.Fatal("empty secret to scan for")
		}
		for _, v := range values {
			if strings.Contains(v, s) {
				h.t.Errorf("attribute value %q holds a secret", v)
			}
		}
	}
}

// TestTokenRequest: a token request is a span named by its route with the
// endpoint, status, outcome and grant type; it is counted and timed; its
// storage calls are child spans; the issuance is a span event; nothing of
// the secret or the token is in any attribute.
func TestTokenRequest(t *testing.T) {
	h := newHarness(t)
	tok := h.token()
	w := h.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "audience": {api}}, "svc", "wrong-secret-value")
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("bad secret: %d", w.Code)
	}
	var spans []tracetest.SpanStub
	for _, s := range h.spans.GetSpans() {
		if s.Name == "POST /oauth/token" {
			spans = append(spans, s)
		}
	}
	if len(spans) != 2 {
		t.Fatalf("token spans: %v", h.spanNames())
	}
	wantAttrs(t, "issued", spans[0].Attributes, map[string]string{"scopekit.endpoint": "token", "scopekit.outcome": "ok",
		"http.response.status_code": "200", "oauth.grant_type": "client_credentials", "http.route": "/oauth/token"})
	wantAttrs(t, "refused", spans[1].Attributes, map[string]string{"scopekit.endpoint": "token", "scopekit.outcome": "invalid_client",
		"http.response.status_code": "401"})
	var issued bool
	for _, e := range spans[0].Events {
		if e.Name == string(event.TokenIssued) {
			issued = true
			wantAttrs(t, "span event", e.Attributes, map[string]string{"oauth.client_id": "svc", "oauth.grant_type": "client_credentials"})
		}
	}
	if !issued {
		t.Errorf("no token.issued span event: %+v", spans[0].Events)
	}
	var child bool
	for _, s := range h.spans.GetSpans() {
		if strings.HasPrefix(s.Name, "storage.") && s.Parent.SpanID() == spans[0].SpanContext.SpanID() {
			child = true
		}
	}
	if !child {
		t.Errorf("no storage span under the token request: %v", h.spanNames())
	}
	ms := h.metrics()
	if n := count(ms, skotel.MetricRequests, map[string]string{"scopekit.endpoint": "token", "oauth.grant_type": "client_credentials",
		"scopekit.outcome": "ok"}); n != 1 {
		t.Errorf("issued requests counted %v, want 1: %v", n, ms[skotel.MetricRequests])
	}
	if n := count(ms, skotel.MetricRequests, map[string]string{"scopekit.endpoint": "token", "scopekit.outcome": "invalid_client"}); n != 1 {
		t.Errorf("refused requests counted %v, want 1: %v", n, ms[skotel.MetricRequests])
	}
	if n := count(ms, skotel.MetricRequestDuration, map[string]string{"scopekit.endpoint": "token"}); n != 2 {
		t.Errorf("token latencies recorded %v, want 2", n)
	}
	if n := count(ms, skotel.MetricEvents, map[string]string{"scopekit.event.kind": string(event.ClientAuthFailed)}); n != 1 {
		t.Errorf("client.auth_failed events counted %v, want 1: %v", n, ms[skotel.MetricEvents])
	}
	h.noSecrets(h.secret, "wrong-secret-value", tok)
}

// TestAuthorizeFlow: /authorize without a session sends the browser to
// sign in (outcome ok); with prompt=none it redirects back with
// login_required, read from the redirect, and no state or challenge value
// is recorded.
func TestAuthorizeFlow(t *testing.T) {
	h := newHarness(t)
	verifier := "a-code-verifier-that-is-long-enough-for-pkce-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {"https://app.example.com/cb"},
		"scope": {"openid"}, "state": {"state-value-xyz"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
		"audience": {api}}
	w := h.get("https://auth.example.com/authorize?" + q.Encode())
	if w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), "/login") {
		t.Fatalf("authorize: %d %s", w.Code, w.Header().Get("Location"))
	}
	q.Set("prompt", "none")
	w = h.get("https://auth.example.com/authorize?" + q.Encode())
	if loc := w.Header().Get("Location"); w.Code != http.StatusFound || !strings.Contains(loc, "error=login_required") {
		t.Fatalf("prompt=none: %d %s", w.Code, loc)
	}
	var outcomes []string
	for _, s := range h.spans.GetSpans() {
		if s.Name == "GET /authorize" {
			outcomes = append(outcomes, attrMap(s.Attributes)["scopekit.outcome"])
		}
	}
	if strings.Join(outcomes, ",") != "ok,login_required" {
		t.Errorf("authorize outcomes %v, want ok,login_required; spans %v", outcomes, h.spanNames())
	}
	ms := h.metrics()
	if n := count(ms, skotel.MetricRequests, map[string]string{"scopekit.endpoint": "authorize", "scopekit.outcome": "login_required"}); n != 1 {
		t.Errorf("login_required counted %v: %v", n, ms[skotel.MetricRequests])
	}
	h.noSecrets("state-value-xyz", challenge)
}

// TestIntrospection: an introspection is a span of its endpoint; the
// token introspected appears in no attribute; the resource-side Authorize
// counts its results and cache hits.
func TestIntrospection(t *testing.T) {
	h := newHarness(t)
	tok := h.token()
	w := h.post("/oauth/introspect", url.Values{"token": {tok}}, "svc", h.secret)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"active":true`) {
		t.Fatalf("introspect: %d %s", w.Code, w.Body)
	}
	wantAttrs(t, "introspect", h.span("POST /oauth/introspect").Attributes, map[string]string{
		"scopekit.endpoint": "introspection", "scopekit.outcome": "ok", "http.response.status_code": "200"})
	if w := h.get("https://auth.example.com/.well-known/openid-configuration"); w.Code != http.StatusOK {
		t.Fatalf("discovery: %d", w.Code)
	}
	wantAttrs(t, "discovery", h.span("GET /.well-known/openid-configuration").Attributes, map[string]string{"scopekit.endpoint": "discovery"})
	if w := h.get("https://auth.example.com/oauth/token/" + tok); w.Code != http.StatusNotFound {
		t.Fatalf("unknown path: %d", w.Code)
	}
	wantAttrs(t, "unknown path", h.span("GET other").Attributes, map[string]string{"scopekit.endpoint": "other", "scopekit.outcome": "error"})

	a := h.in.Authorizer(h.srv.Authorizer(api))
	ctx := context.Background()
	for _, req := range []resource.Requirement{{AllOf: []string{"read"}}, {AllOf: []string{"read"}}, {AllOf: []string{"write"}}} {
		_, _ = a.Authorize(ctx, tok, req)
	}
	_, _ = a.Authorize(ctx, "garbage", resource.Requirement{})
	ms := h.metrics()
	for _, c := range []struct {
		outcome, cached string
		n               float64
	}{{"ok", "false", 1}, {"ok", "true", 1}, {"insufficient_scope", "true", 1}, {"invalid_token", "false", 1}} {
		if n := count(ms, skotel.MetricAuthorize, map[string]string{"scopekit.outcome": c.outcome, "scopekit.authorize.cached": c.cached}); n != c.n {
			t.Errorf("authorize %s cached=%s counted %v, want %v: %v", c.outcome, c.cached, n, c.n, ms[skotel.MetricAuthorize])
		}
	}
	h.noSecrets(tok, h.secret)
}

// TestStorageFailure: a backend outage is a storage span with status
// Error and outcome unavailable, counted by method; the request answers
// temporarily_unavailable and says so in its span.
func TestStorageFailure(t *testing.T) {
	h := newHarness(t)
	h.store.down = true
	w := h.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "audience": {api}}, "svc", h.secret)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("outage: %d %s", w.Code, w.Body)
	}
	s := h.span("storage.Resolve")
	wantAttrs(t, "storage span", s.Attributes, map[string]string{"scopekit.storage.method": "Resolve", "scopekit.outcome": "unavailable"})
	if s.Status.Code.String() != "Error" {
		t.Errorf("storage span status %v, want Error", s.Status)
	}
	wantAttrs(t, "request", h.span("POST /oauth/token").Attributes, map[string]string{"scopekit.outcome": "temporarily_unavailable",
		"http.response.status_code": "503"})
	ms := h.metrics()
	if n := count(ms, skotel.MetricStorageErrors, map[string]string{"scopekit.storage.method": "Resolve", "scopekit.outcome": "unavailable"}); n != 1 {
		t.Errorf("storage errors %v: %v", n, ms[skotel.MetricStorageErrors])
	}
	if n := count(ms, skotel.MetricEvents, map[string]string{"scopekit.event.kind": string(event.StorageUnavailable)}); n != 1 {
		t.Errorf("storage.unavailable events %v: %v", n, ms[skotel.MetricEvents])
	}
	h.noSecrets(h.secret)
}
