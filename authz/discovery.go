package authz

import (
	"net/http"
)

// Metadata is the authorization server metadata (RFC 8414 §2, OIDC
// Discovery §3). It describes exactly what the server has enabled.
type Metadata struct {
	Issuer                                    string   `json:"issuer"`
	AuthorizationEndpoint                     string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                             string   `json:"token_endpoint"`
	UserinfoEndpoint                          string   `json:"userinfo_endpoint,omitempty"`
	JWKSURI                                   string   `json:"jwks_uri"`
	IntrospectionEndpoint                     string   `json:"introspection_endpoint"`
	RevocationEndpoint                        string   `json:"revocation_endpoint"`
	ScopesSupported                           []string `json:"scopes_supported,omitempty"`
	ClaimsSupported                           []string `json:"claims_supported,omitempty"`
	GrantTypesSupported                       []string `json:"grant_types_supported"`
	ResponseTypesSupported                    []string `json:"response_types_supported"`
	ResponseModesSupported                    []string `json:"response_modes_supported,omitempty"`
	CodeChallengeMethodsSupported             []string `json:"code_challenge_methods_supported,omitempty"`
	PromptValuesSupported                     []string `json:"prompt_values_supported,omitempty"`
	TokenEndpointAuthMethodsSupported         []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	SubjectTypesSupported                     []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported          []string `json:"id_token_signing_alg_values_supported"`
	AuthorizationResponseIss                  bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
}

// standardClaims are the claims the server can release (OIDC Core §5.1).
var standardClaims = []string{
	"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
	"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
	"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at",
	"email", "email_verified", "address", "phone_number", "phone_number_verified",
}

// Metadata returns the server's discovery document.
func (s *Server) Metadata() *Metadata {
	e := s.endpoints
	secretMethods := []string{AuthBasic, AuthPost}
	m := &Metadata{
		Issuer:                            s.cfg.Issuer,
		TokenEndpoint:                     e.url(e.token),
		JWKSURI:                           e.url(e.jwks),
		IntrospectionEndpoint:             e.url(e.introspect),
		RevocationEndpoint:                e.url(e.revoke),
		GrantTypesSupported:               s.GrantTypes(),
		ResponseTypesSupported:            []string{},
		TokenEndpointAuthMethodsSupported: secretMethods,
		IntrospectionEndpointAuthMethodsSupported: secretMethods,
		RevocationEndpointAuthMethodsSupported:    secretMethods,
		SubjectTypesSupported:                     []string{"public"},
		IDTokenSigningAlgValuesSupported:          s.keys.set.Algorithms(),
	}
	if s.interactive() {
		m.AuthorizationEndpoint = e.url(e.authorize)
		m.UserinfoEndpoint = e.url(e.userinfo)
		m.ResponseTypesSupported = []string{"code"}
		if s.cfg.ImplicitFlow {
			m.ResponseTypesSupported = append(m.ResponseTypesSupported, "id_token", "id_token token")
		}
		m.ResponseModesSupported = []string{"query", "fragment", "form_post"}
		m.CodeChallengeMethodsSupported = []string{"S256"}
		m.PromptValuesSupported = []string{"none", "login", "consent"}
		m.ScopesSupported = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeAddress, ScopePhone}
		if _, ok := s.grants["refresh_token"]; ok {
			m.ScopesSupported = append(m.ScopesSupported, ScopeOfflineAccess)
		}
		m.ClaimsSupported = standardClaims
		m.AuthorizationResponseIss = true
		withNone := []string{AuthBasic, AuthPost, AuthNone}
		m.TokenEndpointAuthMethodsSupported = withNone
		m.RevocationEndpointAuthMethodsSupported = withNone
	}
	return m
}

// serveDiscovery answers the metadata documents.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeBody(w, s.Metadata())
}
