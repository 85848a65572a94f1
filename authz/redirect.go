package authz

import (
	"net"
	"net/url"
)

// matchRedirectURI returns the registered redirect URI that got matches,
// exactly by string (RFC 9700 §4.1.3), with one exception: for a registered
// http URI on a loopback IP literal, any port matches, as native apps listen
// on an ephemeral port (RFC 8252 §7.3). Nothing else is normalised: a
// trailing slash, a letter case, a query or an encoded path segment that
// differs is no match.
func matchRedirectURI(registered []string, got string) (string, bool) {
	for _, r := range registered {
		if r == got {
			return r, true
		}
	}
	g, err := url.Parse(got)
	if err != nil || g.Scheme != "http" || g.User != nil || g.Fragment != "" || g.RawFragment != "" {
		return "", false
	}
	if !loopbackIP(g.Hostname()) {
		return "", false
	}
	for _, r := range registered {
		u, err := url.Parse(r)
		if err != nil || u.Scheme != "http" || !loopbackIP(u.Hostname()) {
			continue
		}
		if u.Hostname() == g.Hostname() && u.EscapedPath() == g.EscapedPath() && u.RawQuery == g.RawQuery &&
			withoutPort(r, u) == withoutPort(got, g) {
			return got, true
		}
	}
	return "", false
}

func loopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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
