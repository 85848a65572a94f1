package authz

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// TokenRequest is a token-endpoint request (RFC 6749 §4, §6), parsed.
type TokenRequest struct {
	// GrantType is the grant_type parameter.
	GrantType string
	// ClientID and ClientSecret are the client's credentials; AuthMethod says
	// how they were presented (oauth.AuthBasic, oauth.AuthPost,
	// oauth.AuthPrivateKeyJWT or oauth.AuthNone).
	ClientID, ClientSecret, AuthMethod string
	// ClientAssertion is the client_assertion of private_key_jwt (RFC 7523
	// §2.2); ClientID is then its sub.
	ClientAssertion string
	// Scopes are the parsed "scope" parameter; nil when absent.
	Scopes []string
	// Audience is the "audience" parameter, or RFC 8707 "resource".
	Audience string
	// Code, RedirectURI and CodeVerifier belong to the authorization_code grant.
	Code, RedirectURI, CodeVerifier string
	// RefreshToken belongs to the refresh_token grant.
	RefreshToken string
	// Params holds every parameter of the request, for custom grants.
	Params url.Values
	// DPoP is the request's DPoP proof (RFC 9449 §4.1, the DPoP header),
	// for POST at the token endpoint; empty when absent. With a valid one
	// the access token is bound to its key (see docs/DPOP.md).
	DPoP string

	// dpopJKT is the thumbprint of the verified proof's key.
	dpopJKT string
}

// TokenResponse is a successful token response (RFC 6749 §5.1).
type TokenResponse struct {
	// AccessToken is the signed JWT access token (RFC 9068).
	AccessToken string `json:"access_token"`
	// TokenType is "Bearer" (RFC 6750), or "DPoP" for a token bound to
	// the request's DPoP key (RFC 9449 §5).
	TokenType string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64 `json:"expires_in"`
	// Scope is set when the granted scopes differ from the requested ones.
	Scope string `json:"scope,omitempty"`
	// RefreshToken is set when the grant issues one (offline_access).
	RefreshToken string `json:"refresh_token,omitempty"`
	// IDToken is set for an OpenID Connect request (scope openid).
	IDToken string `json:"id_token,omitempty"`
	// IssuedTokenType is the type of a token exchange's token (RFC 8693
	// §2.2.1), TokenTypeAccessToken; empty for other grants.
	IssuedTokenType string `json:"issued_token_type,omitempty"`
}

// AppendJSON appends the response as a JSON object, without reflection:
// the token endpoint's hot path.
func (r *TokenResponse) AppendJSON(b []byte) []byte {
	b = append(b, `{"access_token":`...)
	b = token.AppendJSONString(b, r.AccessToken)
	b = append(b, `,"token_type":`...)
	b = token.AppendJSONString(b, r.TokenType)
	b = append(b, `,"expires_in":`...)
	b = strconv.AppendInt(b, r.ExpiresIn, 10)
	for _, f := range [...]struct{ name, value string }{
		{`,"scope":`, r.Scope}, {`,"refresh_token":`, r.RefreshToken}, {`,"id_token":`, r.IDToken},
		{`,"issued_token_type":`, r.IssuedTokenType},
	} {
		if f.value != "" {
			b = append(b, f.name...)
			b = token.AppendJSONString(b, f.value)
		}
	}
	return append(b, '}', '\n')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (r *TokenResponse) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// Issue runs a token request: it authenticates the client, lets the grant
// decide, then mints and persists the tokens. Errors are *oauth.Error values.
func (s *Server) Issue(ctx context.Context, req *TokenRequest) (*TokenResponse, error) {
	resp, err := s.issue(ctx, req)
	if err != nil {
		e := s.fail(err)
		s.refused(ctx, req, e)
		return nil, e
	}
	return resp, nil
}

// resolveClient reads the client, the requested (or default) audience and
// their client grant in one storage call and authenticates the client, as
// every endpoint that takes a token request does.
func (s *Server) resolveClient(ctx context.Context, req *TokenRequest) (*storage.Resolution, string, error) {
	if err := checkClientID(req.ClientID, req.AuthMethod); err != nil {
		return nil, "", err
	}
	aud := req.Audience
	if aud == "" {
		aud = s.cfg.DefaultAudience
	}
	res, err := s.store.Resolve(ctx, req.ClientID, aud)
	if err != nil {
		return nil, "", err
	}
	if err := s.authenticateClient(ctx, res.Client, req); err != nil {
		return nil, "", err
	}
	noteClient(ctx, res.Client)
	return res, aud, nil
}

func (s *Server) issue(ctx context.Context, req *TokenRequest) (*TokenResponse, error) {
	if req.GrantType == "" {
		return nil, oauth.ErrInvalidRequest.WithDescription("grant_type is required")
	}
	g, ok := s.grants[req.GrantType]
	if !ok {
		return nil, oauth.ErrUnsupportedGrantType
	}
	res, aud, err := s.resolveClient(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := s.tokenDPoP(ctx, req, res); err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	d, codes, err := s.decide(ctx, g, req, res, aud, now)
	if err != nil {
		return nil, err
	}
	if err := dpopRequired(req, d.API); err != nil {
		return nil, err
	}
	d.code, d.jkt = codes.code, req.dpopJKT
	if !codes.redeemed {
		// A decision from a code ran the rules at /authorize, where the
		// user was; any other runs them here.
		if err := s.applyRules(ctx, res.Client, d); err != nil {
			return nil, err
		}
	} else if err := s.consentStillGiven(ctx, res.Client, d); err != nil {
		return nil, err
	}
	return s.mint(ctx, res.Client, d, now, false)
}

// decide is the grant decision of a token request from an authenticated
// client, shared by Issue and Explain: the client must be allowed the grant
// type, then the grant decides. codes tells whether the grant redeemed an
// authorization code, and which.
func (s *Server) decide(ctx context.Context, g Grant, req *TokenRequest, res *storage.Resolution, aud string, now time.Time) (d *Decision, codes *codeService, err error) {
	if !contains(res.Client.GrantTypes, req.GrantType) {
		return nil, nil, oauth.ErrUnauthorizedClient.WithDescription("the client may not use this grant type")
	}
	x, codes := s.exchange(req, res, aud, now)
	d, err = g.Decide(ctx, x)
	return d, codes, err
}

// fail logs the internal cause of an error and returns its public form.
func (s *Server) fail(err error) *oauth.Error {
	e := AsError(err)
	if e.Status >= 500 {
		s.cfg.Logger.Error("authz: request failed", "error", e.Code, "cause", errors.Unwrap(e))
	}
	return e
}
