package authz

import (
	"net/url"
	"strings"
)

// endpoints are the paths the handler serves and the absolute URLs that
// discovery publishes, all under the issuer's path (RFC 8414 §3).
type endpoints struct {
	base string // issuer URL without trailing slash
	path string // issuer path without trailing slash, "" at the root

	token, introspect, revoke, jwks, oidcConfig, asMetadata, asMetadataRFC string
	authorize, resume, consent, userinfo, par, logout                      string
	deviceCode, device, deviceResume, deviceConsent                        string
	// secure is true for an https issuer: cookies get the Secure flag.
	secure bool
}

func newEndpoints(issuer string) endpoints {
	u, _ := url.Parse(issuer) // validated by Config.withDefaults
	path := strings.TrimSuffix(u.Path, "/")
	e := endpoints{base: strings.TrimSuffix(issuer, "/"), path: path, secure: u.Scheme == "https"}
	e.authorize = path + "/authorize"
	e.resume = path + "/authorize/resume"
	e.consent = path + "/authorize/consent"
	e.userinfo = path + "/userinfo"
	e.deviceCode = path + "/oauth/device/code"
	e.device = path + "/device"
	e.deviceResume = path + "/device/resume"
	e.deviceConsent = path + "/device/consent"
	e.token = path + "/oauth/token"
	e.introspect = path + "/oauth/introspect"
	e.revoke = path + "/oauth/revoke"
	e.par = path + "/oauth/par"
	e.logout = path + "/oauth/logout"
	e.jwks = path + "/.well-known/jwks.json"
	e.oidcConfig = path + "/.well-known/openid-configuration"
	e.asMetadata = path + "/.well-known/oauth-authorization-server"
	// RFC 8414 §3.1: for an issuer with a path, the well-known segment goes
	// between the host and the path.
	e.asMetadataRFC = "/.well-known/oauth-authorization-server" + path
	return e
}

// url returns the absolute URL of an endpoint path.
func (e endpoints) url(path string) string {
	return e.base + strings.TrimPrefix(path, e.path)
}
