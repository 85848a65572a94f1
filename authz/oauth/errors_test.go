package oauth_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/scopekit/scopekit/authz/oauth"
)

// TestErrorsAreNeverShared: an error handed out by a code's builders is the
// caller's own; changing it (as the issuer once could change every later
// invalid_client answer with ErrInvalidClient.Status = 200) changes no
// later error of the code.
func TestErrorsAreNeverShared(t *testing.T) {
	builders := map[string]func() *oauth.Error{
		"New":             oauth.ErrInvalidClient.New,
		"WithDescription": func() *oauth.Error { return oauth.ErrInvalidClient.WithDescription("d") },
		"WithCause":       func() *oauth.Error { return oauth.ErrInvalidClient.WithCause(errors.New("c")) },
		"As":              func() *oauth.Error { e, _ := oauth.As(oauth.ErrInvalidClient); return e },
		"As wrapped":      func() *oauth.Error { e, _ := oauth.As(fmt.Errorf("x: %w", oauth.ErrInvalidClient)); return e },
		"copy":            func() *oauth.Error { return oauth.ErrInvalidClient.New().WithDescription("d").WithCause(nil) },
	}
	for name, build := range builders {
		t.Run(name, func(t *testing.T) {
			e := build()
			e.Status, e.Code, e.Description, e.Scope, e.Basic = 200, "ok", "changed", "s", true
			for _, later := range []*oauth.Error{oauth.ErrInvalidClient.New(), build()} {
				if later == e {
					t.Fatal("the same *Error handed out twice")
				}
				if later.Status != http.StatusUnauthorized || later.Code != "invalid_client" || later.Scope != "" || later.Basic {
					t.Fatalf("a change to one error reached a later one: %+v", later)
				}
			}
			if oauth.ErrInvalidClient.Status() != http.StatusUnauthorized || oauth.ErrInvalidClient.String() != "invalid_client" {
				t.Fatal("a change to an error reached its code")
			}
		})
	}
	// The copying methods of *Error leave the original alone.
	orig := oauth.ErrInvalidGrant.WithDescription("one")
	_ = orig.WithDescription("two").WithCause(errors.New("c"))
	if orig.Description != "one" || orig.Unwrap() != nil {
		t.Fatalf("a copy changed its original: %+v", orig)
	}
}

// TestCodeFieldsUnexported: a Code cannot be changed from outside the
// package. The compiler enforces it (oauth.ErrInvalidClient.status = 200 and
// oauth.Code{"x", 1} do not compile outside the package, and a Code has no
// setter); this checks that every field stays unexported and that the codes
// are values, so a copy never aliases the package's code.
func TestCodeFieldsUnexported(t *testing.T) {
	ty := reflect.TypeOf(oauth.Code{})
	if ty.Kind() != reflect.Struct {
		t.Fatalf("Code is a %v, want a struct value", ty.Kind())
	}
	for i := 0; i < ty.NumField(); i++ {
		if f := ty.Field(i); f.IsExported() {
			t.Fatalf("Code.%s is exported", f.Name)
		}
		if k := ty.Field(i).Type.Kind(); k == reflect.Pointer || k == reflect.Map || k == reflect.Slice {
			t.Fatalf("Code.%s is a %v: copies would share it", ty.Field(i).Name, k)
		}
	}
}

// TestErrorsIs: errors.Is matches by code, an *Error against its Code and
// the other way round, wrapped or not, described or not.
func TestErrorsIs(t *testing.T) {
	described := oauth.ErrInvalidScope.WithDescription("x")
	wrapped := fmt.Errorf("grant: %w", described)
	for _, tc := range []struct {
		name        string
		err, target error
		want        bool
	}{
		{"error is its code", described, oauth.ErrInvalidScope, true},
		{"code is its error", oauth.ErrInvalidScope, described, true},
		{"code is itself", oauth.ErrInvalidScope, oauth.ErrInvalidScope, true},
		{"wrapped error", wrapped, oauth.ErrInvalidScope, true},
		{"wrapped code", fmt.Errorf("x: %w", oauth.ErrInvalidScope), oauth.ErrInvalidScope.New(), true},
		{"two errors of a code", described, oauth.ErrInvalidScope.New(), true},
		{"other code", described, oauth.ErrInvalidTarget, false},
		{"other code's error", oauth.ErrInvalidScope, oauth.ErrInvalidTarget.New(), false},
		{"plain error", errors.New("invalid_scope"), oauth.ErrInvalidScope, false},
	} {
		if got := errors.Is(tc.err, tc.target); got != tc.want {
			t.Errorf("%s: errors.Is(%v, %v) = %v", tc.name, tc.err, tc.target, got)
		}
	}
	if _, ok := oauth.As(errors.New("x")); ok {
		t.Fatal("As accepted a plain error")
	}
	cause := errors.New("disk on fire")
	if e := oauth.ErrServerError.WithCause(cause); !errors.Is(e, cause) || e.Description != "" {
		t.Fatalf("cause not kept for logs only: %+v", e)
	}
}

// TestWriteError: the JSON body holds error and error_description only, with
// no-store headers, and a 503 says when to retry.
func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	oauth.WriteError(w, oauth.ErrInvalidGrant.WithCause(errors.New("secret detail")).WithDescription("bad code"))
	if w.Code != 400 || w.Body.String() != `{"error":"invalid_grant","error_description":"bad code"}`+"\n" ||
		w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Retry-After") != "" {
		t.Fatalf("%d %q %v", w.Code, w.Body.String(), w.Header())
	}
	w = httptest.NewRecorder()
	oauth.WriteError(w, oauth.ErrTemporarilyUnavailable.New())
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
}
