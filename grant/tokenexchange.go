package grant

import (
	"context"
	"slices"
	"strings"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// TokenExchange is the token-exchange grant (RFC 8693): a client presents
// an access token (subject_token) and gets one for another API in the
// same subject's name. Without actor_token the new token impersonates the
// subject; with one it is delegated, its "act" claim naming the actor (RFC
// 8693 §4.1). What may be exchanged is the target API's policy
// (storage.API.TokenExchange): the clients that may exchange, the subject
// tokens' audiences and issuers, and the scopes allowed. The scopes granted
// are never wider than the subject token's, the API's and the policy's. No
// refresh token is issued.
type TokenExchange struct{}

// GrantType implements authz.Grant.
func (TokenExchange) GrantType() string { return oauth.GrantTokenExchange }

// Decide implements authz.Grant.
func (TokenExchange) Decide(ctx context.Context, x *authz.Exchange) (*authz.Decision, error) {
	p := x.Request.Params
	if p.Get("subject_token") == "" || p.Get("subject_token_type") == "" {
		return nil, oauth.ErrInvalidRequest.WithDescription("subject_token and subject_token_type are required")
	}
	if p.Has("actor_token") != p.Has("actor_token_type") {
		return nil, oauth.ErrInvalidRequest.WithDescription("actor_token and actor_token_type go together (RFC 8693 §2.1)")
	}
	if rt := p.Get("requested_token_type"); rt != "" && rt != authz.TokenTypeAccessToken {
		return nil, oauth.ErrInvalidRequest.WithDescription("only access tokens are issued")
	}
	if x.Audience == "" {
		return nil, oauth.ErrInvalidRequest.WithDescription("audience or resource is required")
	}
	if x.API == nil || x.API.TokenExchange == nil {
		return nil, oauth.ErrInvalidTarget.WithDescription("the audience accepts no exchanged tokens")
	}
	policy := x.API.TokenExchange
	if x.Client.Public || !slices.Contains(policy.Clients, x.Client.ID) {
		return nil, oauth.ErrUnauthorizedClient.WithDescription("the client may not exchange tokens for this audience")
	}
	subject, err := x.Subjects.Verify(ctx, p.Get("subject_token"), p.Get("subject_token_type"))
	if err != nil {
		return nil, err
	}
	if err := accepted(policy, subject); err != nil {
		return nil, err
	}
	var actor *authz.SubjectToken
	if p.Has("actor_token") {
		if actor, err = x.Subjects.Verify(ctx, p.Get("actor_token"), p.Get("actor_token_type")); err != nil {
			return nil, err
		}
		if actor.Foreign() && !slices.Contains(policy.Issuers, actor.Issuer()) {
			return nil, oauth.ErrInvalidTarget.WithDescription("the audience accepts no actor tokens of that issuer")
		}
	}
	granted, err := exchangeScopes(x.Request.Scopes, subject.Scopes(), policy.Scopes, x.API)
	if err != nil {
		return nil, err
	}
	d := &authz.Decision{
		Trigger: authz.TriggerTokenExchange, GrantType: "token-exchange", Subject: subject.Subject(),
		API: x.API, RequestedScopes: x.Request.Scopes, Scopes: granted,
		// Rules may narrow the scopes, never add one the subject lacks.
		ConsentedScopes: slices.Clone(granted),
		Exchanged:       subject, Actor: actor,
	}
	if !subject.Foreign() && !strings.HasSuffix(subject.Subject(), storage.MachineSubjectSuffix) {
		// One of our users: the user must still be there, and rules see them.
		if d.User, err = x.Directory.User(ctx, subject.Subject()); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// accepted checks the subject token against the target's policy: its
// issuer is this server or one the policy lists, and it was issued for one
// of the policy's subject audiences.
func accepted(policy *storage.ExchangePolicy, subject *authz.SubjectToken) error {
	if subject.Foreign() && !slices.Contains(policy.Issuers, subject.Issuer()) {
		return oauth.ErrInvalidTarget.WithDescription("the audience accepts no subject tokens of that issuer")
	}
	for _, aud := range subject.Audience() {
		if slices.Contains(policy.SubjectAudiences, aud) {
			return nil
		}
	}
	return oauth.ErrInvalidTarget.WithDescription("the audience accepts no subject tokens for the subject token's audience")
}

// exchangeScopes decides the scopes of an exchanged token: those the
// subject token holds, the policy allows and the API defines. No "scope"
// asks for all of them; a requested scope outside them is invalid_scope,
// never silently dropped, so that a client learns it asked for more than
// the subject had.
func exchangeScopes(requested, subject, allowed []string, api *storage.API) ([]string, error) {
	held := restrict(nil, subject, api)
	ok := restrict(held, allowed, api)
	if requested == nil {
		if len(ok) == 0 {
			return nil, oauth.ErrInvalidScope.WithDescription("the subject token holds no scope the audience allows")
		}
		return ok, nil
	}
	granted := restrict(requested, ok, api)
	if len(granted) != len(dedupe(requested)) {
		return nil, oauth.ErrInvalidScope.WithDescription("a requested scope is wider than the subject token or the audience's policy")
	}
	return granted, nil
}

// dedupe returns s without repeats.
func dedupe(s []string) []string {
	seen := make(map[string]struct{}, len(s))
	out := s[:0:0]
	for _, v := range s {
		if _, dup := seen[v]; !dup {
			seen[v] = struct{}{}
			out = append(out, v)
		}
	}
	return out
}
