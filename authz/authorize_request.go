package authz

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// authorizeParams reads the parameters of an authorization request: the
// query of a GET, the form body of a POST (OIDC Core §3.1.2.1). A parameter
// sent twice is refused and one without a value is omitted (RFC 6749 §3.1);
// more than Config.MaxParams parameters are refused.
func (s *Server) authorizeParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	var params url.Values
	switch r.Method {
	case http.MethodGet:
		params = r.URL.Query()
	case http.MethodPost:
		form, err := s.readForm(w, r)
		if err != nil {
			return nil, err
		}
		params = form
	default:
		return nil, oauth.ErrInvalidRequest.WithDescription("the endpoint accepts GET and POST only")
	}
	if err := normalizeParams(params); err != nil {
		return nil, err
	}
	if err := s.checkParamCount(params); err != nil {
		return nil, err
	}
	return params, nil
}

// pageError is an authorization error that must not redirect: the client or
// its redirect URI cannot be trusted (RFC 6749 §4.1.2.1).
type pageError struct{ err *oauth.Error }

// Error implements error.
func (p *pageError) Error() string { return p.err.Error() }

// parseAuthorize validates an authorization request and returns it ready to
// store. Errors are *pageError when no redirect is allowed, else *oauth.Error to
// send to the redirect URI of the returned (partial) request.
func (s *Server) parseAuthorize(ctx context.Context, p url.Values) (*storage.AuthRequest, *storage.Client, *storage.API, error) {
	clientID := p.Get("client_id")
	if clientID == "" {
		return nil, nil, nil, &pageError{oauth.ErrInvalidRequest.WithDescription("client_id is required")}
	}
	if err := s.checkParamSizes(p, "client_id", "redirect_uri"); err != nil {
		return nil, nil, nil, &pageError{AsError(err)}
	}
	client, err := s.store.Clients().Get(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil, &pageError{oauth.ErrInvalidClient.WithDescription("unknown client")}
	}
	if err != nil {
		return nil, nil, nil, &pageError{AsError(err)}
	}
	redirectURI := p.Get("redirect_uri")
	if redirectURI == "" && len(client.RedirectURIs) == 1 {
		redirectURI = client.RedirectURIs[0]
	} else if redirectURI, _ = matchRedirectURI(client.RedirectURIs, redirectURI); redirectURI == "" {
		return nil, nil, nil, &pageError{oauth.ErrInvalidRequest.WithDescription("redirect_uri does not match a registered one")}
	}
	now := s.cfg.Now()
	ar := &storage.AuthRequest{
		ID:                  token.Random(24),
		ClientID:            client.ID,
		RedirectURI:         redirectURI,
		RedirectURIExplicit: p.Get("redirect_uri") != "",
		ResponseType:        p.Get("response_type"),
		ResponseMode:        p.Get("response_mode"),
		State:               p.Get("state"),
		Nonce:               p.Get("nonce"),
		CodeChallenge:       p.Get("code_challenge"),
		CodeChallengeMethod: p.Get("code_challenge_method"),
		CSRF:                token.Random(24),
		CreatedAt:           now.UTC(),
		ExpiresAt:           now.Add(s.cfg.AuthRequestLifetime).UTC(),
	}
	if len(ar.State) > s.cfg.MaxStateBytes {
		ar.State = "" // never echoed; checkParamSizes refuses it below
	}
	if err := s.checkResponseType(client, ar); err != nil {
		return ar, client, nil, err
	}
	if err := s.checkParamSizes(p); err != nil {
		return ar, client, nil, err
	}
	if ar.Scopes, err = s.parseScope(p.Get("scope")); err != nil {
		return ar, client, nil, err
	}
	if err := checkPKCE(client, ar); err != nil {
		return ar, client, nil, err
	}
	if implicit(ar.ResponseType) && (ar.Nonce == "" || !contains(ar.Scopes, oauth.ScopeOpenID)) {
		// OIDC Core §3.2.2.1: nonce is required; the flow is OpenID only.
		return ar, client, nil, oauth.ErrInvalidRequest.WithDescription("the implicit flow needs the openid scope and a nonce")
	}
	if err := parsePrompt(p, ar); err != nil {
		return ar, client, nil, err
	}
	aud, err := audienceParam(p)
	if err != nil {
		return ar, client, nil, err
	}
	if aud == "" {
		aud = s.cfg.DefaultAudience
	}
	var api *storage.API
	if aud != "" {
		api, err = s.store.APIs().Get(ctx, aud)
		if errors.Is(err, storage.ErrNotFound) {
			return ar, client, nil, oauth.ErrInvalidTarget.WithDescription("unknown audience")
		}
		if err != nil {
			return ar, client, nil, err
		}
		ar.Audience = aud
	}
	if err := s.checkStoredSize(ar); err != nil {
		return ar, client, nil, err
	}
	return ar, client, api, nil
}

// checkResponseType accepts the response types the server and the client
// both enable (RFC 6749 §3.1.1) and a valid response_mode.
func (s *Server) checkResponseType(c *storage.Client, ar *storage.AuthRequest) error {
	rt := normaliseResponseType(ar.ResponseType)
	if rt == "" {
		return oauth.ErrInvalidRequest.WithDescription("response_type is required")
	}
	ar.ResponseType = rt
	allowed := c.ResponseTypes
	if len(allowed) == 0 {
		allowed = []string{"code"}
	}
	if !s.responseTypeEnabled(rt) || !contains(allowed, rt) {
		return oauth.ErrUnsupportedResponseType
	}
	switch ar.ResponseMode {
	case "", "query", "fragment", "form_post":
	default:
		return oauth.ErrInvalidRequest.WithDescription("unsupported response_mode")
	}
	if ar.ResponseMode == "query" && rt != "code" {
		return oauth.ErrInvalidRequest.WithDescription("response_mode=query cannot carry tokens (OAuth 2.0 Multiple Response Types §5)")
	}
	return nil
}

// normaliseResponseType orders the space-separated values, which may come
// in any order (OAuth 2.0 Multiple Response Types §3). Values are separated
// by SP alone (RFC 6749 §3.1.1), as scope values are: a tab or another
// Unicode space is part of a value, so the result is refused.
func normaliseResponseType(rt string) string {
	f := spaceFields(rt)
	switch len(f) {
	case 1:
		return f[0]
	case 2:
		if f[0] > f[1] {
			f[0], f[1] = f[1], f[0]
		}
		return f[0] + " " + f[1]
	}
	return rt
}

// responseTypeEnabled reports whether the server runs the response type:
// "code" needs a grant that redeems codes (Capabilities.AuthorizationEndpoint).
func (s *Server) responseTypeEnabled(rt string) bool {
	if s.cfg.Login == nil {
		return false
	}
	switch rt {
	case "code":
		return s.caps.code
	case "id_token", "id_token token":
		return s.cfg.ImplicitFlow
	}
	return false
}

// implicit reports whether a response type returns tokens from /authorize.
func implicit(rt string) bool { return rt != "code" }

// checkPKCE enforces RFC 7636 and RFC 9700 §2.1.1: S256 only, required for
// public clients, honoured for confidential ones.
func checkPKCE(c *storage.Client, ar *storage.AuthRequest) error {
	if ar.ResponseType != "code" {
		return nil
	}
	if ar.CodeChallenge == "" {
		if ar.CodeChallengeMethod != "" {
			return oauth.ErrInvalidRequest.WithDescription("code_challenge_method without code_challenge")
		}
		if c.Public {
			return oauth.ErrInvalidRequest.WithDescription("public clients must use PKCE (code_challenge with S256)")
		}
		return nil
	}
	if ar.CodeChallengeMethod != "S256" {
		return oauth.ErrInvalidRequest.WithDescription("code_challenge_method must be S256")
	}
	if !oauth.ValidS256Challenge(ar.CodeChallenge) {
		return oauth.ErrInvalidRequest.WithDescription("malformed code_challenge: S256 needs 43 base64url characters")
	}
	return nil
}

// maxMaxAge caps max_age: a hundred years in seconds, so that the
// time.Duration of any accepted value cannot overflow. A larger max_age
// constrains nothing a smaller one does not.
const maxMaxAge = 100 * 365 * 24 * 3600

// parsePrompt reads prompt, SP-separated values, and max_age, decimal
// digits (OIDC Core §3.1.2.1). A repeated prompt value is kept once, so at
// most four are stored. max_age=0 adds login, even beside none: a session
// older than the request then answers login_required.
func parsePrompt(p url.Values, ar *storage.AuthRequest) error {
	for _, v := range spaceFields(p.Get("prompt")) {
		switch v {
		case "none", "login", "consent", "select_account":
			ar.Prompt = appendPrompt(ar.Prompt, v)
		default:
			return oauth.ErrInvalidRequest.WithDescription("unsupported prompt value")
		}
	}
	if contains(ar.Prompt, "none") && len(ar.Prompt) > 1 {
		return oauth.ErrInvalidRequest.WithDescription("prompt=none cannot be combined with other values")
	}
	if ma := p.Get("max_age"); ma != "" {
		n, err := strconv.ParseInt(ma, 10, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) || !allDigits(ma) {
			return oauth.ErrInvalidRequest.WithDescription("max_age must be a non-negative integer")
		}
		ar.MaxAge = min(n, maxMaxAge) // ErrRange: n is MaxInt64
		if n == 0 {
			// max_age=0 asks for a fresh sign-in, as prompt=login does.
			ar.Prompt = appendPrompt(ar.Prompt, "login")
		}
	}
	return nil
}

// appendPrompt adds v to prompt unless it is there already; prompt holds at
// most the four known values, so the search is bounded.
func appendPrompt(prompt []string, v string) []string {
	if contains(prompt, v) {
		return prompt
	}
	return append(prompt, v)
}

// spaceFields splits s at each SP (%x20), dropping empty values: the
// separator of scope, response_type and prompt values.
func spaceFields(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, " ") {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// allDigits reports whether s is 1*DIGIT.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
