package authz

import "strings"

// Default bounds of a "scope" parameter, used by ParseScope and by a Server
// whose Config leaves MaxScopes or MaxScopeLength zero.
const (
	// DefaultMaxScopes is the most scope tokens one request may carry.
	DefaultMaxScopes = 100
	// DefaultMaxScopeLength is the longest scope token, in bytes.
	DefaultMaxScopeLength = 128
)

// ParseScope splits a "scope" parameter into its tokens (RFC 6749 §3.3),
// dropping duplicates and keeping the first order. It fails with
// invalid_scope when a token holds a character outside %x21 / %x23-5B /
// %x5D-7E, or when the value holds more than DefaultMaxScopes tokens or one
// longer than DefaultMaxScopeLength bytes. It runs in time linear in len(s).
func ParseScope(s string) ([]string, error) {
	return parseScope(s, DefaultMaxScopes, DefaultMaxScopeLength)
}

// parseScope is ParseScope with explicit bounds: at most maxTokens tokens
// (duplicates included) of at most maxLen bytes each.
func parseScope(s string, maxTokens, maxLen int) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	// maxTokens tokens of maxLen bytes, each followed by a space: anything
	// longer breaks a bound, whatever it holds.
	if len(s) > maxTokens*(maxLen+1) {
		return nil, ErrInvalidScope.WithDescription("scope is too long")
	}
	out := []string{} // not nil: the parameter was sent
	seen := make(map[string]struct{})
	n := 0
	for len(s) > 0 {
		var f string
		if i := strings.IndexByte(s, ' '); i >= 0 {
			f, s = s[:i], s[i+1:]
		} else {
			f, s = s, ""
		}
		if f == "" {
			continue
		}
		if n++; n > maxTokens {
			return nil, ErrInvalidScope.WithDescription("too many scope values")
		}
		if len(f) > maxLen {
			return nil, ErrInvalidScope.WithDescription("scope value too long")
		}
		if !validScopeToken(f) {
			return nil, ErrInvalidScope.WithDescription("malformed scope value")
		}
		if _, dup := seen[f]; !dup {
			seen[f] = struct{}{}
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

// sameScopes reports whether a and b hold the same scopes in any order. It
// runs in time linear in len(a)+len(b).
func sameScopes(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	in := setOf(b)
	for _, s := range a {
		if _, ok := in[s]; !ok {
			return false
		}
	}
	return true
}

// setOf returns the set of the strings of list.
func setOf(list []string) map[string]struct{} {
	m := make(map[string]struct{}, len(list))
	for _, s := range list {
		m[s] = struct{}{}
	}
	return m
}
