package skotel

import (
	"strings"

	"github.com/scopekit/scopekit/authz/oauth"
)

// routes maps the issuer's routes, relative to the issuer's path, to their
// endpoint names (authz.Server.Handler).
var routes = []struct{ suffix, endpoint string }{
	{"/oauth/token", "token"},
	{"/oauth/introspect", "introspection"},
	{"/oauth/revoke", "revocation"},
	{"/oauth/device/code", "device_authorization"},
	{"/authorize", "authorize"},
	{"/authorize/resume", "authorize"},
	{"/authorize/consent", "consent"},
	{"/userinfo", "userinfo"},
	{"/device", "device"},
	{"/device/resume", "device"},
	{"/device/consent", "device"},
	{"/.well-known/jwks.json", "jwks"},
	{"/.well-known/openid-configuration", "discovery"},
	{"/.well-known/oauth-authorization-server", "discovery"},
}

// endpointOf names the endpoint of a ServeMux pattern (a registered route,
// never a request's path); "other" when it is none of the issuer's.
func endpointOf(pattern string) string {
	if pattern == "" {
		return "other"
	}
	// RFC 8414 §3.1 puts the issuer's path after the well-known segment.
	if strings.HasPrefix(pattern, "/.well-known/oauth-authorization-server/") {
		return "discovery"
	}
	for _, r := range routes {
		if strings.HasSuffix(pattern, r.suffix) {
			return r.endpoint
		}
	}
	return "other"
}

// codes are the OAuth error codes an outcome may be; anything else is
// "error", so a response cannot put arbitrary text into a metric.
var oauthCodes = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range []oauth.Code{oauth.ErrInvalidRequest, oauth.ErrInvalidClient, oauth.ErrInvalidGrant,
		oauth.ErrUnauthorizedClient, oauth.ErrUnsupportedGrantType, oauth.ErrInvalidScope, oauth.ErrInvalidTarget,
		oauth.ErrAccessDenied, oauth.ErrUnsupportedResponseType, oauth.ErrLoginRequired, oauth.ErrConsentRequired,
		oauth.ErrInvalidToken, oauth.ErrInsufficientScope, oauth.ErrUnsupportedTokenType, oauth.ErrAuthorizationPending,
		oauth.ErrSlowDown, oauth.ErrExpiredToken, oauth.ErrServerError, oauth.ErrTemporarilyUnavailable} {
		m[c.String()] = true
	}
	// OIDC Core §3.1.2.6 codes an authorization response may carry.
	for _, c := range []string{"interaction_required", "account_selection_required", "invalid_request_uri",
		"invalid_request_object", "request_not_supported", "request_uri_not_supported", "registration_not_supported"} {
		m[c] = true
	}
	return m
}()

// codeOutcome returns code when it is a known OAuth error code, else "error".
func codeOutcome(code string) string {
	if oauthCodes[code] {
		return code
	}
	return "error"
}

// grantTypes are the grant types a metric may name; anything else is "other".
var grantTypes = map[string]bool{
	oauth.GrantAuthorizationCode: true, oauth.GrantImplicit: true, oauth.GrantClientCredentials: true,
	oauth.GrantRefreshToken: true, oauth.GrantDeviceCode: true, oauth.GrantTokenExchange: true,
}

// gtyClientCredentials is the gty claim of a client-credentials token,
// which token.issued events carry as their Grant.
const gtyClientCredentials = "client-credentials"

// grantName returns g when it is a known grant type (the gty value of
// client credentials mapped to its grant_type), "" when empty, else "other".
func grantName(g string) string {
	switch {
	case g == "":
		return ""
	case g == gtyClientCredentials:
		return oauth.GrantClientCredentials
	case grantTypes[g]:
		return g
	}
	return "other"
}
