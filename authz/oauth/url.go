package oauth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
)

// SecureURL parses an absolute URL that uses https, or http on a loopback
// host (development): anything reached over plain HTTP elsewhere could be
// swapped by anyone on the path (RFC 8414 §2, RFC 9700 §2.6). Userinfo is
// refused.
func SecureURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopbackHost(u.Hostname()):
	default:
		return nil, fmt.Errorf("%q must use https (http only on a loopback host)", raw)
	}
	return u, nil
}

// ValidIssuer checks an issuer identifier: a SecureURL with no query or
// fragment (RFC 8414 §2).
func ValidIssuer(iss string) error {
	if iss == "" {
		return errors.New("the issuer is required")
	}
	u, err := SecureURL(iss)
	if err != nil {
		return err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q must have no query or fragment (RFC 8414 §2)", iss)
	}
	return nil
}

// loopbackHost reports whether host is localhost or a loopback IP.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
