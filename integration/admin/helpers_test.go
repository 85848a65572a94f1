package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

var bg = context.Background()

const otherAPI = "https://other.example.com/"

// env is an issuer with the management API mounted beside its own
// handler, bootstrapped, and an OpenAPI validator of every answer.
type env struct {
	t      testing.TB
	srv    *authz.Server
	adm    *admin.Admin
	store  storage.Store
	ts     *httptest.Server
	boot   *admin.Bootstrapped
	v      validator.Validator
	vmu    sync.Mutex
	checks int
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var (
	docOnce sync.Once
	docErr  error
	doc     libopenapi.Document
)

func newEnv(t testing.TB, store storage.Store) *env {
	t.Helper()
	e := &env{t: t, store: store}
	mux := http.NewServeMux()
	e.ts = httptest.NewServer(mux)
	t.Cleanup(e.ts.Close)
	srv, err := authz.New(bg, authz.Config{
		Issuer:   e.ts.URL + "/",
		Store:    store,
		AuditLog: true,
		Grants:   []authz.Grant{grant.ClientCredentials{}, grant.AuthorizationCode{}, grant.RefreshToken{}},
		Login: authz.LoginFuncs{
			SessionFunc: func(r *http.Request) (*authz.Session, error) {
				c, err := r.Cookie("user")
				if err != nil {
					return nil, nil
				}
				return &authz.Session{UserID: c.Value, AuthTime: time.Now()}, nil
			},
			ChallengeFunc: func(w http.ResponseWriter, r *http.Request, returnTo string) {
				http.Error(w, "login required", http.StatusUnauthorized)
			},
		},
	})
	must(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	_, err = srv.RotateKey(bg, token.ES256)
	must(t, err)
	e.srv, e.adm = srv, admin.New(srv)
	e.boot, err = e.adm.Bootstrap(bg, admin.BootstrapConfig{})
	must(t, err)
	mux.Handle("/api/v2/", e.adm.Handler(admin.RESTConfig{}))
	mux.Handle("/", srv.Handler())

	// another API defining the same scope names, granted to the same
	// client: its tokens hold the scopes but not the management audience.
	scopes := []storage.Scope{}
	for _, s := range admin.ManagementScopes() {
		scopes = append(scopes, storage.Scope{Name: s})
	}
	must(t, e.adm.CreateAPI(bg, &storage.API{Identifier: otherAPI, Name: "Other", Scopes: scopes}))
	must(t, e.adm.CreateClientGrant(bg, &storage.ClientGrant{ClientID: e.boot.ClientID, Audience: otherAPI, Scopes: admin.ManagementScopes()}))

	docOnce.Do(func() {
		doc, docErr = libopenapi.NewDocument(admin.OpenAPI())
	})
	must(t, docErr)
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("OpenAPI document: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		t.Fatalf("OpenAPI document invalid: %v", verrs)
	}
	e.v = v
	return e
}

// token issues a management-API token of the bootstrap client holding
// exactly scopes.
func (e *env) token(scopes ...string) string {
	return e.tokenFor(e.boot.Audience, scopes...)
}

func (e *env) tokenFor(aud string, scopes ...string) string {
	e.t.Helper()
	resp, err := e.srv.Issue(bg, &authz.TokenRequest{GrantType: "client_credentials", ClientID: e.boot.ClientID,
		ClientSecret: e.boot.ClientSecret, AuthMethod: oauth.AuthBasic, Audience: aud, Scopes: scopes})
	must(e.t, err)
	return resp.AccessToken
}

// all is a token with every management scope.
func (e *env) all() string { return e.token(admin.ManagementScopes()...) }

// answer is one HTTP answer, its body read.
type answer struct {
	*http.Response
	body []byte
}

// json decodes the body.
func (a *answer) json(t testing.TB) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("body %q: %v", a.body, err)
	}
	return m
}

// apiErr decodes the error shape.
func (a *answer) apiErr(t testing.TB) (code string, fields []string) {
	t.Helper()
	m := a.json(t)
	if int(m["statusCode"].(float64)) != a.StatusCode || m["error"] != http.StatusText(a.StatusCode) || m["message"] == "" {
		t.Fatalf("error shape %s for status %d", a.body, a.StatusCode)
	}
	for _, f := range asList(m["fields"]) {
		fields = append(fields, f.(map[string]any)["field"].(string))
	}
	code, _ = m["errorCode"].(string)
	return code, fields
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// do sends a request (body: nil, a string sent as is, or a value sent as
// JSON) and checks the answer against the OpenAPI document.
func (e *env) do(method, path, bearer string, body any, header ...string) *answer {
	e.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		must(e.t, err)
		rd, ctype = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	must(e.t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	must(e.t, err)
	e.validate(req, resp, raw)
	return &answer{Response: resp, body: raw}
}

// validate checks one answer against the OpenAPI document.
func (e *env) validate(req *http.Request, resp *http.Response, raw []byte) {
	e.t.Helper()
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	e.vmu.Lock()
	ok, errs := e.v.ValidateHttpResponse(req, resp)
	e.checks++
	e.vmu.Unlock()
	if !ok {
		e.t.Errorf("%s %s -> %d %s: not as the OpenAPI document says: %v", req.Method, req.URL.Path, resp.StatusCode, raw, errs)
	}
}

// want fails the test unless the answer has the status.
func (a *answer) want(t testing.TB, status int) *answer {
	t.Helper()
	if a.StatusCode != status {
		t.Fatalf("%s %s = %d %s, want %d", a.Request.Method, a.Request.URL.Path, a.StatusCode, a.body, status)
	}
	return a
}
