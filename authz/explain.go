package authz

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// ExplainRequest names an issuance to explain.
type ExplainRequest struct {
	// ClientID is the client the tokens would be for.
	ClientID string
	// UserID is the signed-in user; empty explains a client-credentials
	// exchange.
	UserID string
	// Audience is the API; empty means Config.DefaultAudience (required for
	// client credentials).
	Audience string
	// Scopes are the requested scopes; nil asks for what a
	// client-credentials grant would give without a scope parameter.
	Scopes []string
	// GrantType is the user flow to explain, as rules see it in
	// Transaction.GrantType: "authorization_code" (the zero value),
	// "implicit" or "refresh_token" (TriggerRefresh). Ignored without a user.
	GrantType string
}

// Explanation is what an issuance would mint, and why.
type Explanation struct {
	// Trigger is the trigger the rules saw.
	Trigger Trigger `json:"trigger"`
	// RequestedScopes are the scopes asked for.
	RequestedScopes []string `json:"requested_scopes"`
	// Scopes are the scopes that would be granted, after RBAC and rules.
	Scopes []string `json:"scopes"`
	// AccessToken is the access token's claim set that would be signed;
	// jti, iat and exp are examples.
	AccessToken map[string]any `json:"access_token,omitempty"`
	// IDToken is the ID token's claim set, only for a user granted openid.
	IDToken map[string]any `json:"id_token,omitempty"`
	// Trace lists what each rule changed, in the order the rules made the
	// changes (see TraceEntry).
	Trace []TraceEntry `json:"trace"`
	// Denied is the reason a rule gave for refusing; nothing would be issued.
	Denied string `json:"denied,omitempty"`
}

// Explain runs the decision an issuance would make — for client credentials
// the grant decision Issue runs (client authentication aside), for a user
// the user's RBAC; then the rule chain — without issuing or storing anything, and
// returns the claims that would be minted with a trace of each rule's
// changes. Consent is assumed given. A rule error is returned as an error,
// with the explanation so far.
func (s *Server) Explain(ctx context.Context, req ExplainRequest) (*Explanation, error) {
	aud := req.Audience
	if aud == "" {
		aud = s.cfg.DefaultAudience
	}
	res, err := s.store.Resolve(ctx, req.ClientID, aud)
	if err != nil {
		return nil, err
	}
	if res.Client == nil {
		return nil, oauth.ErrInvalidClient.WithDescription("unknown client")
	}
	if aud != "" && res.API == nil {
		return nil, oauth.ErrInvalidTarget.WithDescription("unknown audience")
	}
	d := &Decision{API: res.API, RequestedScopes: req.Scopes, AuthTime: s.cfg.Now()}
	if req.UserID == "" {
		// The very decision Issue makes, client authentication aside.
		g := s.caps.clientTokens
		if g == nil {
			return nil, oauth.ErrUnsupportedGrantType
		}
		tr := &TokenRequest{GrantType: g.GrantType(), ClientID: req.ClientID, Scopes: req.Scopes, Audience: aud}
		if d, _, err = s.decide(ctx, g, tr, res, aud, s.cfg.Now()); err != nil {
			return nil, err
		}
	} else {
		user, err := s.store.Users().Get(ctx, req.UserID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, oauth.ErrInvalidRequest.WithDescription("unknown user")
		}
		if err != nil {
			return nil, err
		}
		d.Subject, d.User = user.ID, user
		switch req.GrantType {
		case "", oauth.GrantAuthorizationCode:
			d.Trigger, d.GrantType = TriggerLogin, oauth.GrantAuthorizationCode
		case "implicit":
			d.Trigger, d.GrantType = TriggerLogin, oauth.GrantImplicit
		case oauth.GrantRefreshToken:
			d.Trigger, d.GrantType = TriggerRefresh, oauth.GrantRefreshToken
		default:
			return nil, oauth.ErrInvalidRequest.WithDescription("GrantType must be authorization_code, implicit or refresh_token")
		}
		if d.Scopes, _, err = s.userScopes(ctx, res.Client, res.API, user, req.Scopes); err != nil {
			return nil, err
		}
	}
	ex := &Explanation{Trigger: d.Trigger, RequestedScopes: req.Scopes, Trace: []TraceEntry{}}
	if len(s.cfg.Rules) > 0 {
		out, err := s.runRules(ctx, res.Client, d)
		if out != nil {
			ex.Trace = append(ex.Trace, out.trace...)
		}
		if e, ok := oauth.As(err); ok && e.Is(oauth.ErrAccessDenied) {
			ex.Denied = e.Description
			return ex, nil
		}
		if err != nil {
			return ex, err
		}
		d.Scopes, d.AccessClaims, d.Claims = out.scopes, out.accessClaims, out.idClaims
	}
	ex.Scopes = d.Scopes
	now := s.cfg.Now()
	at, _, _, err := s.accessClaims(ctx, res.Client, d, now)
	if err != nil {
		return ex, err
	}
	payload, err := at.AppendJSON(nil)
	if err != nil {
		return ex, err
	}
	if err := json.Unmarshal(payload, &ex.AccessToken); err != nil {
		return ex, err
	}
	if d.User != nil && contains(d.Scopes, oauth.ScopeOpenID) {
		ex.IDToken = s.idClaims(res.Client, d, now)
	}
	return ex, nil
}
