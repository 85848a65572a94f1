package authz

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// maxRedirectURIBytes bounds a redirect URI's length.
const maxRedirectURIBytes = 2048

// Kinds of redirect URI (RFC 8252 §7).
const (
	redirectHTTPS      = iota + 1 // https, claimed or web (RFC 8252 §7.2)
	redirectLoopback              // http on 127.0.0.1 or [::1] (RFC 8252 §7.3)
	redirectPrivateUse            // reverse-domain private-use scheme (RFC 8252 §7.1)
)

// checkRedirectURI returns the kind of a redirect URI, or why it is no safe
// target. Accepted are: https with a host; http on the loopback IP literals
// 127.0.0.1 and [::1] only (RFC 8252 §7.3; "localhost" is refused, as
// RFC 8252 §8.3 advises: it may resolve elsewhere and is not bound by the
// app alone); and a private-use scheme in reverse-domain form, with a dot,
// followed by a path (com.example.app:/cb, RFC 8252 §7.1). Every other
// scheme is refused, among them javascript:, data:, vbscript: and file:.
// A fragment, even empty, is refused (RFC 6749 §3.1.2), as are userinfo,
// a wildcard host, a port outside 1-65535 or written with a leading zero,
// an upper-case scheme, whitespace, control and non-ASCII bytes, and more
// than maxRedirectURIBytes.
func checkRedirectURI(raw string) (int, error) {
	fail := func(why string) (int, error) {
		return 0, fmt.Errorf("authz: redirect URI %q %s (RFC 8252 §7, RFC 9700 §4.1)", raw, why)
	}
	if len(raw) > maxRedirectURIBytes {
		return fail(fmt.Sprintf("is longer than %d bytes", maxRedirectURIBytes))
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] <= ' ' || raw[i] >= 0x7f {
			return fail("holds whitespace, a control or a non-ASCII byte")
		}
	}
	if strings.Contains(raw, "#") {
		return fail("must have no fragment")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || !strings.HasPrefix(raw, u.Scheme+":") {
		return fail("must be absolute with a lower-case scheme")
	}
	if u.User != nil || u.Opaque != "" {
		return fail("must have no userinfo and a path after the scheme")
	}
	if strings.Contains(u.Host, "*") {
		return fail("must have no wildcard")
	}
	if strings.HasSuffix(u.Host, ":") || u.Port() != "" && !validPort(u.Port()) {
		return fail("has an invalid port")
	}
	switch u.Scheme {
	case "https":
		if u.Hostname() == "" {
			return fail("needs a host")
		}
		return redirectHTTPS, nil
	case "http":
		if h := u.Hostname(); h != "127.0.0.1" && h != "::1" {
			return fail("uses http on a host other than 127.0.0.1 or [::1]")
		}
		return redirectLoopback, nil
	}
	if !privateUseScheme(u.Scheme) {
		return fail("must use https, loopback http or a reverse-domain private-use scheme")
	}
	return redirectPrivateUse, nil
}

// checkRegisteredRedirectURI validates a redirect URI at registration:
// checkRedirectURI, and a private-use scheme only for a public (native)
// client, the only kind RFC 8252 §7.1 defines it for.
func checkRegisteredRedirectURI(raw string, public bool) error {
	kind, err := checkRedirectURI(raw)
	if err != nil {
		return err
	}
	if kind == redirectPrivateUse && !public {
		return fmt.Errorf("authz: redirect URI %q uses a private-use scheme, for public clients only (RFC 8252 §7.1)", raw)
	}
	return nil
}

// safeRedirectTarget reports whether raw may be redirected to. It is checked
// at every redirect, not only at registration, so that a record written to
// the store directly never sends a browser to javascript: or the like.
func safeRedirectTarget(raw string) bool {
	_, err := checkRedirectURI(raw)
	return err == nil
}

// privateUseScheme reports whether scheme is in reverse-domain form: at
// least two non-empty dot-separated labels (RFC 8252 §7.1).
func privateUseScheme(scheme string) bool {
	labels := strings.Split(scheme, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" {
			return false
		}
	}
	return true
}

// validPort reports whether port is a decimal 1-65535 without a leading zero.
func validPort(port string) bool {
	if port == "" || port[0] == '0' || len(port) > 5 {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535 && strconv.Itoa(n) == port
}

// matchRedirectURI returns the registered redirect URI that got matches,
// exactly by string (RFC 9700 §4.1.3), with one exception: for a registered
// http URI on a loopback IP literal, any valid port matches, as native apps
// listen on an ephemeral port (RFC 8252 §7.3). Nothing else is normalised: a
// trailing slash, a letter case, a query or an encoded path segment that
// differs is no match. A URI that is no safe target never matches, even when
// registered (a record written to the store directly).
func matchRedirectURI(registered []string, got string) (string, bool) {
	kind, err := checkRedirectURI(got)
	if err != nil {
		return "", false
	}
	for _, r := range registered {
		if r == got {
			return r, true
		}
	}
	if kind != redirectLoopback {
		return "", false
	}
	g, _ := url.Parse(got)
	for _, r := range registered {
		if k, err := checkRedirectURI(r); err != nil || k != redirectLoopback {
			continue
		}
		u, _ := url.Parse(r)
		if u.Hostname() == g.Hostname() && u.EscapedPath() == g.EscapedPath() && u.RawQuery == g.RawQuery &&
			withoutPort(r, u) == withoutPort(got, g) {
			return got, true
		}
	}
	return "", false
}

// withoutPort returns the URI string with its port removed, so the rest of
// the string is compared byte for byte.
func withoutPort(raw string, u *url.URL) string {
	port := u.Port()
	if port == "" {
		return raw
	}
	host := u.Host
	stripped := host[:len(host)-len(port)-1]
	i := len(u.Scheme) + len("://")
	if len(raw) < i+len(host) || raw[i:i+len(host)] != host {
		return raw + "\x00" // not in canonical form: never equal
	}
	return raw[:i] + stripped + raw[i+len(host):]
}
