package authz

import (
	"net/http"
	"slices"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/token"
)

// Metadata is the authorization server metadata (RFC 8414 §2, OIDC
// Discovery §3). It describes exactly what the server has enabled. The
// OpenID fields (userinfo_endpoint, claims_supported, subject_types_supported,
// id_token_signing_alg_values_supported) are set only on an OpenID Provider:
// a server with Config.Login and the authorization code grant.
type Metadata struct {
	// Issuer is the issuer identifier, exactly Config.Issuer.
	Issuer string `json:"issuer"`
	// AuthorizationEndpoint is /authorize; empty without user-facing flows.
	AuthorizationEndpoint string `json:"authorization_endpoint,omitempty"`
	// TokenEndpoint is /oauth/token.
	TokenEndpoint string `json:"token_endpoint"`
	// UserinfoEndpoint is /userinfo; empty when the server is not an OpenID
	// Provider.
	UserinfoEndpoint string `json:"userinfo_endpoint,omitempty"`
	// JWKSURI is the public JWK Set of the signing keys.
	JWKSURI string `json:"jwks_uri"`
	// DeviceAuthorizationEndpoint is /oauth/device/code (RFC 8628 §4);
	// empty unless a grant redeems device codes and Config.Login is set.
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
	// IntrospectionEndpoint is /oauth/introspect (RFC 7662).
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	// RevocationEndpoint is /oauth/revoke (RFC 7009).
	RevocationEndpoint string `json:"revocation_endpoint"`
	// ScopesSupported are the OpenID scopes, with offline_access only when
	// the refresh grant runs. API scopes are per API and not listed.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// ClaimsSupported are the claims an ID token or /userinfo can carry.
	ClaimsSupported []string `json:"claims_supported,omitempty"`
	// GrantTypesSupported are the token-endpoint grants, plus "implicit"
	// when the implicit flow is served at /authorize.
	GrantTypesSupported []string `json:"grant_types_supported"`
	// ResponseTypesSupported are the response types /authorize answers;
	// empty without user-facing flows.
	ResponseTypesSupported []string `json:"response_types_supported"`
	// ResponseModesSupported are the response modes /authorize answers.
	ResponseModesSupported []string `json:"response_modes_supported,omitempty"`
	// CodeChallengeMethodsSupported are the PKCE methods: S256 only.
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported,omitempty"`
	// PromptValuesSupported are the prompt values /authorize honours.
	PromptValuesSupported []string `json:"prompt_values_supported,omitempty"`
	// TokenEndpointAuthMethodsSupported are the client authentication
	// methods of the token endpoint.
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	// IntrospectionEndpointAuthMethodsSupported are those of /oauth/introspect.
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	// RevocationEndpointAuthMethodsSupported are those of /oauth/revoke.
	RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported"`
	// TokenEndpointAuthSigningAlgValuesSupported are the algorithms of
	// private_key_jwt assertions (RFC 8414 §2), when it is enabled; the
	// introspection and revocation fields repeat them for those endpoints.
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	// IntrospectionEndpointAuthSigningAlgValuesSupported: see TokenEndpointAuthSigningAlgValuesSupported.
	IntrospectionEndpointAuthSigningAlgValuesSupported []string `json:"introspection_endpoint_auth_signing_alg_values_supported,omitempty"`
	// RevocationEndpointAuthSigningAlgValuesSupported: see TokenEndpointAuthSigningAlgValuesSupported.
	RevocationEndpointAuthSigningAlgValuesSupported []string `json:"revocation_endpoint_auth_signing_alg_values_supported,omitempty"`
	// SubjectTypesSupported is ["public"] on an OpenID Provider.
	SubjectTypesSupported []string `json:"subject_types_supported,omitempty"`
	// IDTokenSigningAlgValuesSupported are every algorithm an ID token may
	// be signed with, whether or not a key for it exists yet (keys are
	// created on first use).
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported,omitempty"`
	// PushedAuthorizationRequestEndpoint is /oauth/par (RFC 9126 §5);
	// empty without user-facing flows.
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint,omitempty"`
	// RequirePushedAuthorizationRequests says /authorize accepts only
	// pushed requests (Config.RequirePushedAuthorizationRequests).
	RequirePushedAuthorizationRequests bool `json:"require_pushed_authorization_requests,omitempty"`
	// AuthorizationResponseIss says authorization responses carry iss
	// (RFC 9207).
	AuthorizationResponseIss bool `json:"authorization_response_iss_parameter_supported,omitempty"`
	// DPoPSigningAlgValuesSupported are the algorithms of DPoP proofs the
	// server accepts (RFC 9449 §5.1).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported"`
	// EndSessionEndpoint is /oauth/logout (OIDC RP-Initiated Logout 1.0
	// §2.1); empty without user-facing flows.
	EndSessionEndpoint string `json:"end_session_endpoint,omitempty"`
	// BackchannelLogoutSupported and BackchannelLogoutSessionSupported say
	// logout tokens are sent, with sid (OIDC Back-Channel Logout 1.0 §2.1).
	BackchannelLogoutSupported        bool `json:"backchannel_logout_supported,omitempty"`
	BackchannelLogoutSessionSupported bool `json:"backchannel_logout_session_supported,omitempty"`
}

// standardClaims are the claims the server can release (OIDC Core §5.1).
var standardClaims = []string{
	"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
	"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
	"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at",
	"email", "email_verified", "address", "phone_number", "phone_number_verified",
}

// Metadata returns the server's discovery document. It is the caller's:
// every slice is a fresh copy, shared with nothing (not even another field).
func (s *Server) Metadata() *Metadata {
	e := s.endpoints
	// none is listed where public clients are served: the token and
	// revocation endpoints of a server with user-facing flows.
	confidential := slices.DeleteFunc(s.ClientAuthMethods(), func(m string) bool { return m == oauth.AuthNone })
	m := &Metadata{
		Issuer:                            s.cfg.Issuer,
		TokenEndpoint:                     e.url(e.token),
		JWKSURI:                           e.url(e.jwks),
		IntrospectionEndpoint:             e.url(e.introspect),
		RevocationEndpoint:                e.url(e.revoke),
		GrantTypesSupported:               s.GrantTypes(),
		ResponseTypesSupported:            []string{},
		TokenEndpointAuthMethodsSupported: slices.Clone(confidential),
		IntrospectionEndpointAuthMethodsSupported: slices.Clone(confidential),
		RevocationEndpointAuthMethodsSupported:    slices.Clone(confidential),
		DPoPSigningAlgValuesSupported:             slices.Clone(token.DPoPAlgorithms),
	}
	if _, ok := s.clientAuth[oauth.AuthPrivateKeyJWT]; ok {
		m.TokenEndpointAuthSigningAlgValuesSupported = slices.Clone(allAlgorithms)
		m.IntrospectionEndpointAuthSigningAlgValuesSupported = slices.Clone(allAlgorithms)
		m.RevocationEndpointAuthSigningAlgValuesSupported = slices.Clone(allAlgorithms)
	}
	if s.deviceFlow() {
		m.DeviceAuthorizationEndpoint = e.url(e.deviceCode)
	}
	if s.interactive() {
		m.AuthorizationEndpoint = e.url(e.authorize)
		m.UserinfoEndpoint = e.url(e.userinfo)
		m.PushedAuthorizationRequestEndpoint = e.url(e.par)
		m.RequirePushedAuthorizationRequests = s.cfg.RequirePushedAuthorizationRequests
		m.ResponseTypesSupported = []string{"code"}
		if s.responseTypeEnabled("id_token") {
			m.ResponseTypesSupported = append(m.ResponseTypesSupported, "id_token", "id_token token")
			// RFC 8414 §2: the implicit grant is listed when it is served.
			m.GrantTypesSupported = append(m.GrantTypesSupported, "implicit")
		}
		m.ResponseModesSupported = []string{"query", "fragment", "form_post"}
		m.CodeChallengeMethodsSupported = []string{"S256"}
		m.PromptValuesSupported = []string{"none", "login", "consent"}
		m.ScopesSupported = []string{oauth.ScopeOpenID, oauth.ScopeProfile, oauth.ScopeEmail, oauth.ScopeAddress, oauth.ScopePhone}
		if len(s.caps.refresh) > 0 {
			m.ScopesSupported = append(m.ScopesSupported, oauth.ScopeOfflineAccess)
		}
		m.ClaimsSupported = slices.Clone(standardClaims)
		m.SubjectTypesSupported = []string{"public"}
		m.IDTokenSigningAlgValuesSupported = s.signingAlgorithms()
		m.AuthorizationResponseIss = true
		m.EndSessionEndpoint = e.url(e.logout)
		m.BackchannelLogoutSupported, m.BackchannelLogoutSessionSupported = true, true
		if _, ok := s.clientAuth[oauth.AuthNone]; ok {
			m.TokenEndpointAuthMethodsSupported = append(m.TokenEndpointAuthMethodsSupported, oauth.AuthNone)
			m.RevocationEndpointAuthMethodsSupported = append(m.RevocationEndpointAuthMethodsSupported, oauth.AuthNone)
		}
	}
	return m
}

// signingAlgorithms are the algorithms the server signs with. With keys in
// the store, that is every supported algorithm: a key is created the first
// time a client or API asks for one. With Config.Keys, it is the
// algorithms of those keys, as no other key can appear.
func (s *Server) signingAlgorithms() []string {
	if s.keys.store != nil {
		return append([]string(nil), allAlgorithms...)
	}
	return s.keys.set.Algorithms()
}

// serveDiscovery answers the metadata documents.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == s.endpoints.oidcConfig && !s.interactive() {
		// OIDC Discovery §4: only an OpenID Provider publishes this
		// document; RFC 8414 metadata stays at oauth-authorization-server.
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeBody(w, s.Metadata())
}
