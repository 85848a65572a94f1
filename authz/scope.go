package authz

import (
	"strings"

	"github.com/scopekit/scopekit/storage"
)

// ParseScope splits a "scope" parameter into its tokens (RFC 6749 §3.3),
// dropping duplicates and keeping the first order. It fails with
// invalid_scope when a token holds a character outside %x21 / %x23-5B /
// %x5D-7E.
func ParseScope(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' })
	out := fields[:0]
	for _, f := range fields {
		if !validScopeToken(f) {
			return nil, ErrInvalidScope.WithDescription("malformed scope value")
		}
		if !contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

func validScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// FormatScope joins scopes into a "scope" value.
func FormatScope(scopes []string) string { return strings.Join(scopes, " ") }

// ScopeHas reports whether the space-separated scope string holds want. It
// does not allocate.
func ScopeHas(scope, want string) bool {
	for len(scope) > 0 {
		i := strings.IndexByte(scope, ' ')
		var tok string
		if i < 0 {
			tok, scope = scope, ""
		} else {
			tok, scope = scope[:i], scope[i+1:]
		}
		if tok == want {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// sameScopes reports whether a and b hold the same scopes in any order.
func sameScopes(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !contains(b, s) {
			return false
		}
	}
	return true
}

// Restrict returns the scopes of requested that allowed holds and the API
// defines, in request order. A nil requested (no "scope" parameter) asks for
// every scope allowed holds that the API defines.
func Restrict(requested, allowed []string, api *storage.API) []string {
	if requested == nil {
		requested = allowed
	}
	out := make([]string, 0, len(requested))
	for _, s := range requested {
		if contains(allowed, s) && api.HasScope(s) && !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
