package authz

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
	"github.com/scopekit/scopekit/token"
)

// The parsers an unauthenticated caller reaches, fuzzed against the
// invariants they document: no panic, bounded output, a success that round
// trips or satisfies the grammar, repeated parameters refused.

// fuzzBodyLimit is the body limit of the fuzzed server: small, so that the
// fuzzer reaches it.
const fuzzBodyLimit = 512

// codeGrant stands for the authorization_code grant, which /authorize
// needs enabled (package grant imports authz).
type codeGrant struct{ refuseAll }

func (codeGrant) GrantType() string { return "authorization_code" }

// fuzzServer is a server with the code and implicit flows enabled, a
// confidential web client allowed every response type, a public native
// client and one API.
func fuzzServer(f *testing.F) *Server {
	f.Helper()
	ctx := context.Background()
	store := memory.New()
	login := LoginFuncs{
		SessionFunc:   func(*http.Request) (*Session, error) { return nil, nil },
		ChallengeFunc: func(http.ResponseWriter, *http.Request, string) {},
	}
	// An Ed25519 key set: generating the default RSA key in every fuzz
	// worker would dominate the run.
	k, err := token.GenerateKey(token.EdDSA)
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(ctx, Config{Issuer: "https://issuer.example/", Store: store, Login: login, ImplicitFlow: true,
		Keys: token.NewKeySet(k), MaxBodyBytes: fuzzBodyLimit, Grants: []Grant{refuseAll{}, codeGrant{}}})
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range []*storage.Client{
		{ID: "web", RedirectURIs: []string{"https://app.example/cb"}, ResponseTypes: []string{"code", "id_token", "id_token token"}},
		{ID: "native", Public: true, AuthMethod: oauth.AuthNone, RedirectURIs: []string{"http://127.0.0.1/cb"}},
	} {
		if _, err := s.CreateClient(ctx, c); err != nil {
			f.Fatal(err)
		}
	}
	if err := store.APIs().Create(ctx, &storage.API{Identifier: "https://api.example", Scopes: []storage.Scope{{Name: "read"}}}); err != nil {
		f.Fatal(err)
	}
	return s
}

// oauthError fails the test unless err is an *oauth.Error with one of codes.
func oauthError(t *testing.T, err error, codes ...string) {
	t.Helper()
	e, ok := oauth.As(err)
	if !ok || !slices.Contains(codes, e.Code) {
		t.Fatalf("error %v (%T), want one of %v", err, err, codes)
	}
}

// singleValued fails the test unless every parameter has one non-empty
// value (RFC 6749 §3.1 after normalizeParams).
func singleValued(t *testing.T, form url.Values) {
	t.Helper()
	for k, v := range form {
		if len(v) != 1 || v[0] == "" {
			t.Fatalf("parameter %q = %q after normalisation", k, v)
		}
	}
}

func postForm(s *Server, contentType string, body []byte) (url.Values, error) {
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return s.readForm(httptest.NewRecorder(), r)
}

// FuzzReadForm: a form or JSON body parses into single, non-empty values
// that round-trip; a body over the limit and a repeated parameter are
// refused with invalid_request.
func FuzzReadForm(f *testing.F) {
	s := fuzzServer(f)
	for _, seed := range []string{
		"grant_type=client_credentials&client_id=m&scope=a+b", "a=1&a=2", "a=&a=1", "a=1&%61=2", "a=%zz", "a;b=1", "=1", "a",
		`{"grant_type":"client_credentials","n":1,"b":true}`, `{"a":"1","a":"2"}`, `{"a":"","a":"1"}`, `{"a":null}`, `{"a":{}}`,
		`{"a":[]}`, `{"a":"1"} x`, `{"a" "1"}`, `{"a":"1",}`, `[]`, `{"\u0061":"1","a":"2"}`, `{"a":1e999}`, `{"a":"\ud800"}`,
	} {
		f.Add([]byte(seed), strings.HasPrefix(seed, "{") || strings.HasPrefix(seed, "["))
	}
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool) {
		ct := "application/x-www-form-urlencoded"
		if isJSON {
			ct = "application/json; charset=utf-8"
		}
		form, err := postForm(s, ct, body)
		if err != nil {
			oauthError(t, err, oauth.ErrInvalidRequest.String())
			return
		}
		if len(body) > fuzzBodyLimit {
			t.Fatalf("a %d-byte body passed the %d-byte limit", len(body), fuzzBodyLimit)
		}
		singleValued(t, form)
		if len(form) > len(body) {
			t.Fatalf("%d parameters from %d bytes", len(form), len(body))
		}
		if isJSON {
			var m map[string]any
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&m); err != nil || dec.More() {
				t.Fatalf("accepted JSON that encoding/json refuses: %q: %v", body, err)
			}
			for k, v := range form {
				if _, ok := m[k]; !ok {
					t.Fatalf("parameter %q not in %q", k, body)
				}
				if str, ok := m[k].(string); ok && str != v[0] && utf8.ValidString(str) {
					t.Fatalf("parameter %q = %q, body says %q", k, v[0], str)
				}
			}
		} else {
			back, err := url.ParseQuery(form.Encode())
			if err != nil || !equalValues(back, form) {
				t.Fatalf("form %q does not round-trip: %q, %v", form, back, err)
			}
		}
		// The same parameters with one of them repeated are refused.
		for k, v := range form {
			dup := form.Encode() + "&" + url.QueryEscape(k) + "=" + url.QueryEscape(v[0]+"x")
			if _, err := postForm(s, "application/x-www-form-urlencoded", []byte(dup)); len(dup) <= fuzzBodyLimit && err == nil {
				t.Fatalf("repeated %q accepted in %q", k, dup)
			}
			m := map[string]string{}
			for k, v := range form {
				m[k] = v[0]
			}
			obj, _ := json.Marshal(m)
			kj, _ := json.Marshal(k)
			dupJSON := append(append(append(obj[:len(obj)-1:len(obj)-1], ','), kj...), []byte(`:"x"}`)...)
			if _, err := postForm(s, "application/json", dupJSON); len(dupJSON) <= fuzzBodyLimit && err == nil {
				t.Fatalf("repeated %q accepted in %s", k, dupJSON)
			}
			break
		}
	})
}

func equalValues(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// FuzzNormalizeParams: a parameter with two values is refused, whatever
// they are; otherwise exactly the empty ones are dropped.
func FuzzNormalizeParams(f *testing.F) {
	for _, seed := range []string{"a=1&b=2", "a=1&a=1", "a=&b=1", "a&a=", "a=1&a", "%20=1", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		params, _ := url.ParseQuery(q) // the values parsed before any error
		repeated, nonEmpty := false, 0
		for _, v := range params {
			repeated = repeated || len(v) > 1
			if len(v) == 1 && v[0] != "" {
				nonEmpty++
			}
		}
		err := normalizeParams(params)
		if repeated {
			if err == nil {
				t.Fatalf("repeated parameter accepted in %q", q)
			}
			oauthError(t, err, oauth.ErrInvalidRequest.String())
			return
		}
		if err != nil {
			t.Fatalf("refused %q: %v", q, err)
		}
		singleValued(t, params)
		if len(params) != nonEmpty {
			t.Fatalf("%d parameters kept of %d non-empty in %q", len(params), nonEmpty, q)
		}
	})
}

// basicHeader encodes client credentials as RFC 6749 §2.3.1 says: each
// part form-urlencoded, then HTTP Basic.
func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(user)+":"+url.QueryEscape(pass)))
}

// FuzzParseBasic: credentials encoded per RFC 6749 §2.3.1 decode to
// themselves, whatever they hold (a colon, a plus, a percent); a decoded
// header re-encodes to the same credentials; an empty client id is refused.
func FuzzParseBasic(f *testing.F) {
	for _, seed := range [][3]string{
		{basicHeader("client", "s3cret"), "client", "s3cret"},
		{basicHeader("a:b", "c:d+e%f"), "a:b", "c:d+e%f"},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("a+b:%zz")), "", ""},
		{"basic YTpi", "é", " "},
		{"Basic  YTpi  ", "", ":"},
		{"Bearer YTpi", "\x00", "\xff"},
		{"Basic Og==", "", "p"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, header, user, pass string) {
		if u, p, ok := parseBasic(header); ok {
			if u == "" {
				t.Fatalf("empty client id accepted from %q", header)
			}
			if u2, p2, ok := parseBasic(basicHeader(u, p)); !ok || u2 != u || p2 != p {
				t.Fatalf("%q decodes to (%q, %q) which does not round-trip: (%q, %q, %v)", header, u, p, u2, p2, ok)
			}
		}
		u, p, ok := parseBasic(basicHeader(user, pass))
		if ok != (user != "") || ok && (u != user || p != pass) {
			t.Fatalf("(%q, %q) decodes to (%q, %q, %v)", user, pass, u, p, ok)
		}
	})
}

// FuzzParsePrompt: an accepted prompt holds known values once each, none
// alone, each sent by the client (or login for max_age=0), and re-parses to
// itself; an accepted max_age is decimal digits, capped so that its
// duration does not overflow.
func FuzzParsePrompt(f *testing.F) {
	for _, seed := range [][2]string{
		{"login consent", "3600"}, {"none", "0"}, {"none login", ""}, {"login login", "00"}, {"login\tconsent", "+5"},
		{"  consent  ", "-1"}, {"select_account", "99999999999999999999"}, {"Login", "1e3"}, {"login\u00a0consent", "0x10"},
	} {
		f.Add(seed[0], seed[1])
	}
	known := []string{"none", "login", "consent", "select_account"}
	f.Fuzz(func(t *testing.T, prompt, maxAge string) {
		ar := &storage.AuthRequest{}
		err := parsePrompt(url.Values{"prompt": {prompt}, "max_age": {maxAge}}, ar)
		if err != nil {
			oauthError(t, err, oauth.ErrInvalidRequest.String())
			return
		}
		sent := strings.Split(prompt, " ")
		for i, v := range ar.Prompt {
			if !slices.Contains(known, v) || slices.Contains(ar.Prompt[:i], v) {
				t.Fatalf("prompt %q parsed to %q", prompt, ar.Prompt)
			}
			if !slices.Contains(sent, v) && (v != "login" || ar.MaxAge != 0 || maxAge == "") {
				t.Fatalf("prompt %q (max_age %q) parsed to %q", prompt, maxAge, ar.Prompt)
			}
		}
		// max_age=0 implies login even beside none, so that a session
		// older than the request answers login_required.
		if slices.Contains(ar.Prompt, "none") && len(ar.Prompt) > 1 && !(len(ar.Prompt) == 2 && ar.Prompt[1] == "login" && maxAge != "" && ar.MaxAge == 0) {
			t.Fatalf("prompt=none combined: %q", ar.Prompt)
		}
		if maxAge != "" && (strings.Trim(maxAge, "0123456789") != "" || ar.MaxAge < 0 || ar.MaxAge > maxMaxAge) {
			t.Fatalf("max_age %q parsed to %d", maxAge, ar.MaxAge)
		}
		if d := time.Duration(ar.MaxAge) * time.Second; d < 0 || d/time.Second != time.Duration(ar.MaxAge) {
			t.Fatalf("max_age %d overflows as a duration", ar.MaxAge)
		}
		explicit := slices.DeleteFunc(slices.Clone(ar.Prompt), func(v string) bool { return !slices.Contains(sent, v) })
		again := &storage.AuthRequest{}
		if err := parsePrompt(url.Values{"prompt": {strings.Join(explicit, " ")}, "max_age": {maxAge}}, again); err != nil || !slices.Equal(again.Prompt, ar.Prompt) {
			t.Fatalf("prompt %q does not re-parse: %q, %v", ar.Prompt, again.Prompt, err)
		}
	})
}

// FuzzResponseType: an accepted response_type is one the server and client
// enable, made of exactly the SP-separated names sent, in any order; an
// accepted response_mode is a known one that can carry the response.
func FuzzResponseType(f *testing.F) {
	s := fuzzServer(f)
	client, err := s.store.Clients().Get(context.Background(), "web")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][2]string{
		{"code", ""}, {"token id_token", "fragment"}, {"id_token token", "query"}, {"code\tid_token", "form_post"},
		{"id_token\u00a0token", ""}, {"code code", ""}, {" code ", "Query"}, {"token", ""}, {"id_token token code", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	enabled := []string{"code", "id_token", "id_token token"}
	f.Fuzz(func(t *testing.T, rt, mode string) {
		ar := &storage.AuthRequest{ResponseType: rt, ResponseMode: mode}
		if err := s.checkResponseType(client, ar); err != nil {
			oauthError(t, err, oauth.ErrInvalidRequest.String(), oauth.ErrUnsupportedResponseType.String())
			return
		}
		if !slices.Contains(enabled, ar.ResponseType) {
			t.Fatalf("response_type %q accepted as %q", rt, ar.ResponseType)
		}
		got := spaceFields(ar.ResponseType)
		sent := spaceFields(rt)
		slices.Sort(sent)
		if !slices.Equal(got, sent) {
			t.Fatalf("response_type %q accepted as %q", rt, ar.ResponseType)
		}
		if !slices.Contains([]string{"", "query", "fragment", "form_post"}, mode) || mode == "query" && ar.ResponseType != "code" {
			t.Fatalf("response_mode %q accepted for %q", mode, ar.ResponseType)
		}
	})
}

// FuzzParseAuthorize: a whole authorization request, as a query string.
// An accepted request names a registered client and one of its redirect
// URIs, an enabled response type, valid distinct scopes, a well-formed PKCE
// challenge, and fits the stored-size bound; a refused one is an OAuth
// error, shown on a page (never redirected) while the client or its
// redirect URI is not established.
func FuzzParseAuthorize(f *testing.F) {
	s := fuzzServer(f)
	challenge := strings.Repeat("a", 43)
	for _, seed := range []string{
		"response_type=code&client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid+read&state=s&audience=https%3A%2F%2Fapi.example",
		"response_type=code&client_id=native&redirect_uri=http%3A%2F%2F127.0.0.1%3A4000%2Fcb&code_challenge=" + challenge + "&code_challenge_method=S256",
		"response_type=id_token+token&client_id=web&scope=openid&nonce=n&response_mode=form_post&prompt=none&max_age=0",
		"response_type=code&client_id=web&client_id=web", "client_id=web&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
		"response_type=code&client_id=native&code_challenge=short&code_challenge_method=plain", "response_type=code&client_id=nobody",
		"response_type=code&client_id=web&scope=read+read&prompt=login+consent&max_age=%2B1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest(http.MethodGet, "/authorize", nil)
		r.URL.RawQuery = query
		p, err := s.authorizeParams(httptest.NewRecorder(), r)
		if err != nil {
			oauthError(t, err, oauth.ErrInvalidRequest.String())
			return
		}
		ar, client, _, err := s.parseAuthorize(context.Background(), p)
		if err != nil {
			var pe *pageError
			if errors.As(err, &pe) {
				if ar != nil {
					t.Fatalf("page error %v with a request to redirect", err)
				}
				return
			}
			oauthError(t, err, oauth.ErrInvalidRequest.String(), oauth.ErrUnsupportedResponseType.String(), oauth.ErrInvalidScope.String(), oauth.ErrInvalidTarget.String())
			if ar == nil || client == nil || !slices.Contains(client.RedirectURIs, withoutPortIfLoopback(ar.RedirectURI)) {
				t.Fatalf("redirected error %v without an established redirect URI: %+v", err, ar)
			}
			return
		}
		if client.ID != p.Get("client_id") || !slices.Contains(client.RedirectURIs, withoutPortIfLoopback(ar.RedirectURI)) {
			t.Fatalf("request %q accepted for client %q at %q", query, client.ID, ar.RedirectURI)
		}
		if !s.responseTypeEnabled(ar.ResponseType) || !slices.Contains(append(client.ResponseTypes, "code"), ar.ResponseType) {
			t.Fatalf("response_type %q accepted", ar.ResponseType)
		}
		for i, sc := range ar.Scopes {
			if !oauth.ValidScopeToken(sc) || slices.Contains(ar.Scopes[:i], sc) {
				t.Fatalf("scopes %q accepted", ar.Scopes)
			}
		}
		if ar.CodeChallenge != "" && (ar.CodeChallengeMethod != "S256" || !oauth.ValidS256Challenge(ar.CodeChallenge)) || client.Public && ar.CodeChallenge == "" {
			t.Fatalf("PKCE %q/%q accepted for %q", ar.CodeChallenge, ar.CodeChallengeMethod, client.ID)
		}
		if len(ar.State) > s.cfg.MaxStateBytes || authRequestSize(ar) > s.cfg.MaxAuthRequestBytes {
			t.Fatalf("request of %d bytes accepted", authRequestSize(ar))
		}
	})
}

// withoutPortIfLoopback strips the port of a loopback redirect URI, which
// the client registers without one (RFC 8252 §7.3).
func withoutPortIfLoopback(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() != "127.0.0.1" {
		return raw
	}
	return withoutPort(raw, u)
}
