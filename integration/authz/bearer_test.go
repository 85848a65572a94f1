package authz_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestBearerOneMethod sends the access token in the header and also in the
// query or a form body: RFC 6750 §2 allows one method per request, so the
// middleware answers 400 invalid_request and the handler never runs. A
// form body without a token still reaches the handler whole.
func TestBearerOneMethod(t *testing.T) {
	f := newFixture(t)
	tok := f.issue(t, usersAPI).AccessToken
	h := f.srv.Authorizer(usersAPI).RequireScopes("read:users")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(body)
	}))
	formType := "application/x-www-form-urlencoded"
	long := "pad=" + strings.Repeat("p", 100<<10) // beyond the 64 KiB the check reads
	for _, tc := range []struct {
		name, target, ctype, body string
		status                    int
	}{
		{"header only", "/", "", "", 200},
		{"header and query", "/?access_token=" + url.QueryEscape(tok), "", "", 400},
		{"header and escaped query name", "/?access%5Ftoken=x", "", "", 400},
		{"header and form body", "/", formType, "a=1&access_token=" + url.QueryEscape(tok), 400},
		{"header and form body with charset", "/", formType + "; charset=utf-8", "access_token=x", 400},
		{"header and form body without a token", "/", formType, "a=1&b=2", 200},
		{"header and a long form body", "/", formType, long, 200},
		{"header and an empty access_token", "/?access_token=", "", "", 200},
		{"header and a JSON body", "/", "application/json", `{"access_token":"x"}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", tc.target, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+tok)
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == 400 {
				if !strings.Contains(rec.Body.String(), `"invalid_request"`) || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="invalid_request"`) {
					t.Fatalf("%q %s", rec.Header().Get("WWW-Authenticate"), rec.Body)
				}
				return
			}
			if rec.Body.String() != tc.body {
				t.Fatalf("the handler read %d bytes of %d", rec.Body.Len(), len(tc.body))
			}
		})
	}
	t.Run("form body parsed before the middleware", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/", strings.NewReader("access_token=x"))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", formType)
		must(t, req.ParseForm())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 400 {
			t.Fatalf("status %d", rec.Code)
		}
	})
	t.Run("query only is not read", func(t *testing.T) {
		if rec := httpRoundTrip(t, h, "GET", "/?access_token="+url.QueryEscape(tok), ""); rec.Code != 401 {
			t.Fatalf("status %d", rec.Code)
		}
	})
}

// TestUserinfoBearerOneMethod: /userinfo refuses a token sent twice before
// looking at it.
func TestUserinfoBearerOneMethod(t *testing.T) {
	f := newUserFixture(t)
	rec := httpRoundTrip(t, f.srv.Handler(), "GET", "/userinfo?access_token=x", "y")
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"invalid_request"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
