package oauth

import "strings"

// Default bounds of a "scope" parameter, used by ParseScope and by an
// issuer whose configuration leaves its own bounds zero.
const (
	// DefaultMaxScopes is the most scope tokens one request may carry.
	DefaultMaxScopes = 100
	// DefaultMaxScopeLength is the longest scope token, in bytes.
	DefaultMaxScopeLength = 128
)

// Standard scopes: the OpenID Connect scopes (OIDC Core §5.4, §11). They ask
// for identity, not API access.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeAddress       = "address"
	ScopePhone         = "phone"
	ScopeOfflineAccess = "offline_access"
)

// ParseScope splits a "scope" parameter into its tokens (RFC 6749 §3.3),
// dropping duplicates and keeping the first order. It is ParseScopeBounded
// with DefaultMaxScopes and DefaultMaxScopeLength.
func ParseScope(s string) ([]string, error) {
	return ParseScopeBounded(s, DefaultMaxScopes, DefaultMaxScopeLength)
}

// ParseScopeBounded splits a "scope" parameter into its tokens (RFC 6749
// §3.3), dropping duplicates and keeping the first order. It fails with
// invalid_scope when a token holds a character outside %x21 / %x23-5B /
// %x5D-7E, or when the value holds more than maxTokens tokens (duplicates
// included) or one longer than maxLen bytes. An empty value gives nil (no
// parameter); a value of spaces only a non-nil empty slice. It runs in time
// linear in len(s).
func ParseScopeBounded(s string, maxTokens, maxLen int) ([]string, error) {
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
		if !ValidScopeToken(f) {
			return nil, ErrInvalidScope.WithDescription("malformed scope value")
		}
		if _, dup := seen[f]; !dup {
			seen[f] = struct{}{}
			out = append(out, f)
		}
	}
	return out, nil
}

// ValidScopeToken reports whether s is a non-empty scope-token: characters
// %x21 / %x23-5B / %x5D-7E only (RFC 6749 §3.3).
func ValidScopeToken(s string) bool {
	if s == "" {
		return false
	}
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
