package admin

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// Bounds of the directory's records (docs/ADMIN.md).
const (
	// MaxNameBytes bounds a display name.
	MaxNameBytes = 255
	// MaxDescriptionBytes bounds a description.
	MaxDescriptionBytes = 1024
	// MaxScopesPerAPI bounds the scopes one API defines.
	MaxScopesPerAPI = 1000
	// MaxListItems bounds every other list of a record (redirect URIs,
	// grant types, a user's roles and groups, a role's permissions, ...).
	MaxListItems = 200
	// MaxTokenLifetime bounds an API's access-token lifetime: 30 days, the
	// product's own bound.
	MaxTokenLifetime = 30 * 24 * time.Hour
	// MinTokenLifetime is the shortest access-token lifetime: token times
	// are whole seconds (RFC 7519 §2 NumericDate).
	MinTokenLifetime = time.Second
)

// algorithms are the JWS algorithms the server can sign with (token.Supported).
var algorithms = strings.Join([]string{token.RS256, token.PS256, token.ES256, token.EdDSA}, ", ")

// checkID checks a record id (storage.ValidID).
func (c *checker) checkID(field, id string) {
	if !storage.ValidID(id) {
		c.bad(field, "must be 1 to %d bytes of printable UTF-8", storage.MaxIDBytes)
	}
}

// checkText checks free text: valid UTF-8 without control characters, at
// most max bytes; empty unless required.
func (c *checker) checkText(field, s string, max int, required bool) {
	switch {
	case s == "" && required:
		c.bad(field, "is required")
	case len(s) > max:
		c.bad(field, "must be at most %d bytes", max)
	case !utf8.ValidString(s):
		c.bad(field, "must be valid UTF-8")
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		c.bad(field, "must hold no control characters")
	}
}

// checkCount checks the length of a list.
func (c *checker) checkCount(field string, n, max int) bool {
	if n > max {
		c.bad(field, "must have at most %d items", max)
		return false
	}
	return true
}

// checkAlg checks a JWS algorithm: empty (RS256) or one the server signs with.
func (c *checker) checkAlg(field, alg string) {
	if alg != "" && !token.Supported(alg) {
		c.bad(field, "unsupported algorithm %q: use one of %s", alg, algorithms)
	}
}

// checkScopeName checks a scope token (RFC 6749 §3.3) by oauth.ParseScope:
// one token of allowed characters, at most oauth.DefaultMaxScopeLength bytes.
func (c *checker) checkScopeName(field, name string) bool {
	got, err := oauth.ParseScope(name)
	if err != nil || len(got) != 1 || got[0] != name {
		c.bad(field, "must be one scope token of 1 to %d printable ASCII characters without space, '\"' or '\\' (RFC 6749 §3.3)", oauth.DefaultMaxScopeLength)
		return false
	}
	return true
}

// checkAbsoluteURI checks an API identifier: an absolute URI (RFC 3986
// §4.3) without fragment (RFC 8707 §2), within storage.ValidID.
func (c *checker) checkAbsoluteURI(field, raw string) {
	if !storage.ValidID(raw) {
		c.bad(field, "must be an absolute URI of at most %d bytes", storage.MaxIDBytes)
		return
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] <= ' ' || raw[i] >= 0x7f {
			c.bad(field, "must be an absolute URI (RFC 3986): no whitespace or non-ASCII byte")
			return
		}
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || !strings.HasPrefix(raw, u.Scheme+":") || len(raw) == len(u.Scheme)+1:
		c.bad(field, "must be an absolute URI such as https://api.example.com/ (RFC 3986 §4.3)")
	case strings.Contains(raw, "#"):
		c.bad(field, "must have no fragment (RFC 8707 §2)")
	}
}

// checkHTTPURL checks an optional http(s) URL of a profile.
func (c *checker) checkHTTPURL(field, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if len(raw) > 2048 || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(raw, " \t\r\n") {
		c.bad(field, "must be an http or https URL of at most 2048 bytes")
	}
}

// unique reports each repeated value of list as a problem of field[i].
func (c *checker) unique(field string, list []string) {
	seen := make(map[string]struct{}, len(list))
	for i, v := range list {
		if _, dup := seen[v]; dup {
			c.bad(fmt.Sprintf("%s[%d]", field, i), "repeats %q", v)
		}
		seen[v] = struct{}{}
	}
}
