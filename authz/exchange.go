package authz

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/token"
)

// TokenTypeAccessToken is the token type identifier of an access token
// (RFC 8693 §3): the only subject, actor and issued token type of the
// token-exchange grant.
const TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"

// SubjectVerifier verifies the access tokens of another issuer presented
// at a token exchange (Config.ExchangeIssuers): the *resource.Authorizer of
// resource.NewRemote for that issuer is one. It must check the signature,
// the issuer, the audience and the expiry.
type SubjectVerifier interface {
	Authorize(ctx context.Context, raw string, req resource.Requirement) (*resource.Principal, error)
}

// Subjects verifies the tokens a client presents at a token exchange (RFC
// 8693 §2.1).
type Subjects interface {
	// Verify verifies a subject or actor token of the type named: an
	// access token of this server (signature, expiry and revocation, as
	// introspection checks them) or of an issuer in Config.ExchangeIssuers
	// (its verifier). Another token type is invalid_request (RFC 8693
	// §2.2.2); a token that does not verify, has expired, was revoked or
	// comes from an issuer not trusted is invalid_grant.
	Verify(ctx context.Context, raw, tokenType string) (*SubjectToken, error)
}

// SubjectToken is a verified subject or actor token. It is opaque: only
// Subjects.Verify makes one, so a decision that carries it (Decision.Exchanged,
// Decision.Actor) names a token the server checked.
type SubjectToken struct {
	issuer, subject, clientID, jti string
	audience, scopes               []string
	expiresAt                      time.Time
	act                            map[string]any
	foreign                        bool
	// verified is set by Subjects.Verify alone: a zero SubjectToken a
	// grant made itself is refused by mint.
	verified bool
}

// Issuer is the token's "iss".
func (t *SubjectToken) Issuer() string { return t.issuer }

// Subject is the token's "sub".
func (t *SubjectToken) Subject() string { return t.subject }

// ClientID is the token's "client_id".
func (t *SubjectToken) ClientID() string { return t.clientID }

// Audience is the token's "aud".
func (t *SubjectToken) Audience() []string { return slices.Clone(t.audience) }

// Scopes are the token's scopes.
func (t *SubjectToken) Scopes() []string { return slices.Clone(t.scopes) }

// ExpiresAt is the token's "exp".
func (t *SubjectToken) ExpiresAt() time.Time { return t.expiresAt }

// Foreign reports that another issuer (Config.ExchangeIssuers) issued the
// token: its subject is not a user of this server's directory.
func (t *SubjectToken) Foreign() bool { return t.foreign }

// family is the token family of one of this server's tokens, or "".
func (t *SubjectToken) family() string {
	if t.foreign {
		return ""
	}
	return resource.FamilyOf(t.jti)
}

// ExchangedToken is a rule's view of a subject or actor token
// (Transaction.SubjectToken, Transaction.ActorToken): a copy.
type ExchangedToken struct {
	Issuer, Subject, ClientID string
	Audience, Scopes          []string
}

func (t *SubjectToken) view() *ExchangedToken {
	if t == nil {
		return nil
	}
	return &ExchangedToken{Issuer: t.issuer, Subject: t.subject, ClientID: t.clientID, Audience: t.Audience(), Scopes: t.Scopes()}
}

// subjects implements Subjects.
type subjects struct{ s *Server }

func (v subjects) Verify(ctx context.Context, raw, tokenType string) (*SubjectToken, error) {
	if tokenType != TokenTypeAccessToken {
		return nil, oauth.ErrInvalidRequest.WithDescription("unsupported token type: only " + TokenTypeAccessToken)
	}
	s := v.s
	iss, _, ok := peekClaims(raw)
	if !ok {
		return nil, oauth.ErrInvalidGrant.WithDescription("malformed token")
	}
	if iss == s.cfg.Issuer {
		claims, err := s.verifyLive(ctx, raw)
		if err != nil {
			return nil, err
		}
		if claims == nil {
			return nil, oauth.ErrInvalidGrant.WithDescription("the token is invalid, expired or revoked")
		}
		return &SubjectToken{
			issuer: claims.Issuer, subject: claims.Subject, clientID: claims.ClientID, jti: claims.JTI,
			audience: slices.Clone(claims.Audience), scopes: claims.Scopes(), expiresAt: claims.ExpiresAt,
			act: actClaim(claims.Raw), verified: true,
		}, nil
	}
	ver, trusted := s.cfg.ExchangeIssuers[iss]
	if !trusted || iss == "" {
		return nil, oauth.ErrInvalidGrant.WithDescription("the token's issuer is not trusted")
	}
	p, err := ver.Authorize(ctx, raw, resource.Requirement{})
	if err != nil {
		if errors.Is(err, oauth.ErrTemporarilyUnavailable) {
			// The issuer is unreachable: an outage, not a bad token.
			return nil, err
		}
		return nil, oauth.ErrInvalidGrant.WithDescription("the token does not verify at its issuer")
	}
	if got, _ := p.Claims["iss"].(string); got != iss || !s.cfg.Now().Before(p.ExpiresAt) {
		return nil, oauth.ErrInvalidGrant.WithDescription("the token does not verify at its issuer")
	}
	return &SubjectToken{
		issuer: iss, subject: p.Subject, clientID: p.ClientID, jti: p.JTI,
		audience: slices.Clone(p.Audience), scopes: p.Scopes(), expiresAt: p.ExpiresAt,
		act: actClaim(p.Claims), foreign: true, verified: true,
	}, nil
}

// actClaim returns a token's "act" claim (RFC 8693 §4.1), or nil.
func actClaim(claims map[string]any) map[string]any {
	act, _ := claims["act"].(map[string]any)
	return act
}

// actOf builds the "act" claim of an exchanged token (RFC 8693 §4.1): the
// actor's subject and client, with the actor token's own "act" nested as
// the prior chain of delegation. Without an actor (impersonation) the
// subject token's "act" is kept, so that exchanging a delegated token never
// hides its delegation.
func actOf(d *Decision) map[string]any {
	if d.Actor == nil {
		if d.Exchanged == nil {
			return nil
		}
		return d.Exchanged.act
	}
	act := map[string]any{"sub": d.Actor.subject}
	if d.Actor.clientID != "" {
		act["client_id"] = d.Actor.clientID
	}
	if d.Actor.foreign {
		act["iss"] = d.Actor.issuer
	}
	if d.Actor.act != nil {
		act["act"] = d.Actor.act
	}
	return act
}

// exchangedClaims applies what a token exchange decides to the access token
// being minted: it never outlives the subject token, and carries "act".
func exchangedClaims(d *Decision, at *token.AccessToken) {
	if d.Exchanged == nil {
		return
	}
	if at.ExpiresAt.After(d.Exchanged.expiresAt) {
		at.ExpiresAt = d.Exchanged.expiresAt
	}
	if act := actOf(d); act != nil {
		extra := make(map[string]any, len(at.Extra)+1)
		for k, v := range at.Extra {
			extra[k] = v
		}
		extra["act"] = act
		at.Extra = extra
	}
}

// exchangedSubject reports whether the decision keeps the subject of the
// subject token it exchanged: a machine subject may then be issued to
// another client than its own.
func exchangedSubject(d *Decision) bool {
	return d.Exchanged != nil && d.Subject == d.Exchanged.subject && d.User == nil
}

// checkExchange refuses what mint must not issue for an exchange: a refresh
// token, or a family other than the subject token's.
func checkExchange(d *Decision) error {
	if d.Exchanged == nil {
		if d.Actor != nil {
			return errors.New("authz: an actor token without a subject token")
		}
		return nil
	}
	if !d.Exchanged.verified || (d.Actor != nil && !d.Actor.verified) {
		return errors.New("authz: an exchanged token not verified by Subjects.Verify")
	}
	if d.IssueRefresh || d.Continuation != nil {
		return errors.New("authz: a token exchange issues no refresh token")
	}
	if d.Subject != d.Exchanged.subject {
		return errors.New("authz: an exchanged token keeps its subject token's subject")
	}
	d.Family = d.Exchanged.family()
	if d.Family == "" && d.User != nil {
		return errors.New("authz: an exchanged user token without a family")
	}
	return nil
}
