package authz

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// mint signs the tokens a decision describes, persists what must be
// persisted (the family, the refresh token or its rotation), and builds the
// response. Tokens are signed first and persisted last, so a storage failure
// returns an error and nothing signed ever leaves the server. idTokenOnly
// mints the ID token alone (response_type=id_token).
func (s *Server) mint(ctx context.Context, c *storage.Client, d *Decision, now time.Time, idTokenOnly bool) (*TokenResponse, error) {
	if err := checkSubject(c, d); err != nil {
		return nil, err
	}
	if err := checkExchange(d); err != nil {
		return nil, err
	}
	if err := settleFamily(c, d); err != nil {
		return nil, err
	}
	at, alg, familyExp, err := s.accessClaims(ctx, c, d, now)
	if err != nil {
		return nil, err
	}
	exp := at.ExpiresAt
	resp := &TokenResponse{TokenType: "Bearer", ExpiresIn: int64(exp.Sub(now) / time.Second)}
	if !idTokenOnly {
		if resp.AccessToken, err = s.issueAccess(ctx, d.API, alg, &at); err != nil {
			return nil, err
		}
	}
	if !sameScopes(d.RequestedScopes, d.Scopes) {
		resp.Scope = at.Scope
	}
	if d.User != nil && contains(d.Scopes, oauth.ScopeOpenID) {
		if resp.IDToken, err = s.signIDToken(ctx, c, d, resp.AccessToken, now); err != nil {
			return nil, err
		}
	}
	if d.Exchanged != nil {
		// An exchanged token joins its subject token's family, if any:
		// nothing is stored (RFC 8693 §2.2.1).
		resp.IssuedTokenType = TokenTypeAccessToken
	} else if d.Family != "" {
		if resp.RefreshToken, err = s.persistFamily(ctx, c, d, now, familyExp); err != nil {
			return nil, err
		}
	}
	s.issued(ctx, c, d)
	return resp, nil
}

// settleFamily sets the family a decision's tokens join: a continuation's
// own, checked against the decision it came back in, or a new one for a
// user decision that names none.
func settleFamily(c *storage.Client, d *Decision) error {
	cont := d.Continuation
	switch {
	case cont == nil:
		if d.User != nil && d.Family == "" {
			d.Family = token.Random(16)
		}
		return nil
	case !cont.redecided:
		return errors.New("authz: a continuation must be decided again (Policy.Redecide) before it is issued")
	case cont.client != c.ID || d.User == nil || d.Subject != cont.user.ID || apiID(d.API) != apiID(cont.api):
		return errors.New("authz: a continuation issued for other parties than its own")
	case !d.IssueRefresh:
		return errors.New("authz: refresh rotation without a new refresh token")
	}
	d.Family = cont.family
	return nil
}

// accessClaims builds the access token a decision describes, with its
// signing algorithm and the end of its family (a new family's end when the
// decision creates one).
func (s *Server) accessClaims(ctx context.Context, c *storage.Client, d *Decision, now time.Time) (at token.AccessToken, alg string, familyExp time.Time, err error) {
	audience, lifetime, alg := s.accessTarget(d.API)
	exp := now.Add(lifetime)
	if d.Continuation != nil {
		familyExp = d.Continuation.familyExp
	}
	if d.Family != "" && familyExp.IsZero() {
		familyExp = exp.Add(s.cfg.Leeway)
		if d.IssueRefresh {
			familyExp = now.Add(s.cfg.RefreshAbsoluteLifetime)
		}
	}
	if d.Family != "" && exp.After(familyExp) {
		exp = familyExp
	}
	perms, err := s.permissionsClaim(ctx, d)
	if err != nil {
		return at, "", familyExp, err
	}
	jti := token.Random(16)
	if d.Family != "" {
		jti = d.Family + "." + jti
	}
	auds := []string{audience}
	if d.API != nil && d.User != nil && contains(d.Scopes, oauth.ScopeOpenID) {
		// The token also reads /userinfo (OIDC Core §5.3).
		auds = append(auds, s.endpoints.url(s.endpoints.userinfo))
	}
	at = token.AccessToken{
		Issuer:          s.cfg.Issuer,
		Subject:         d.Subject,
		Audience:        auds,
		ClientID:        c.ID,
		AuthorizedParty: c.ID,
		Scope:           oauth.FormatScope(d.Scopes),
		GrantType:       d.GrantType,
		JTI:             jti,
		IssuedAt:        now,
		ExpiresAt:       exp,
		Permissions:     perms,
		Extra:           d.AccessClaims,
	}
	if d.User != nil {
		at.AuthTime = d.AuthTime
	}
	exchangedClaims(d, &at)
	return at, alg, familyExp, nil
}

// accessTarget returns the audience, lifetime and algorithm of an access
// token for the API; without an API the token is for /userinfo only.
// codeRetention is how long the store keeps a consumed code as a used
// marker: until the latest instant a token issued from it can still be
// valid (the family's expiry when the code is exchanged at the last moment:
// the refresh family's absolute lifetime with offline_access, else the
// access token's lifetime, plus the leeway). A replay until then revokes
// the family (RFC 6749 §4.1.2).
func (s *Server) codeRetention(c *storage.AuthCode, api *storage.API) time.Time {
	_, lifetime, _ := s.accessTarget(api)
	if contains(c.Scopes, oauth.ScopeOfflineAccess) && s.cfg.RefreshAbsoluteLifetime > lifetime {
		lifetime = s.cfg.RefreshAbsoluteLifetime
	}
	return c.ExpiresAt.Add(lifetime + s.cfg.Leeway)
}

func (s *Server) accessTarget(api *storage.API) (aud string, lifetime time.Duration, alg string) {
	if api == nil {
		return s.endpoints.url(s.endpoints.userinfo), s.cfg.AccessTokenLifetime, token.RS256
	}
	lifetime = api.TokenLifetime
	if lifetime <= 0 {
		lifetime = s.cfg.AccessTokenLifetime
	}
	alg = api.SigningAlg
	if alg == "" {
		alg = token.RS256
	}
	return api.Identifier, lifetime, alg
}

// permissionsClaim returns the "permissions" array when the API asks for
// one: the user's effective permissions, or the granted scopes of a
// client-credentials token.
func (s *Server) permissionsClaim(ctx context.Context, d *Decision) ([]string, error) {
	if d.API == nil || !d.API.AddPermissionsClaim {
		return nil, nil
	}
	if d.User == nil {
		return append([]string{}, d.Scopes...), nil
	}
	perms, err := s.Permissions(ctx, d.User, d.API.Identifier)
	if perms == nil && err == nil {
		perms = []string{}
	}
	return perms, err
}

// signAccess encodes and signs an access token with the current key of alg.
func (s *Server) signAccess(ctx context.Context, alg string, at *token.AccessToken) (string, error) {
	key, err := s.signer(ctx, alg)
	if err != nil {
		return "", err
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	payload, err := at.AppendJSON((*bp)[:0])
	if err != nil {
		return "", err
	}
	*bp = payload
	return key.Sign(token.TypeAccessToken, payload)
}

// persistFamily stores a new family (with its first refresh token) or
// rotates the refresh token being exchanged, and returns the new refresh
// token, if any.
func (s *Server) persistFamily(ctx context.Context, c *storage.Client, d *Decision, now, familyExp time.Time) (string, error) {
	var refresh string
	var next *storage.RefreshToken
	if d.IssueRefresh {
		var err error
		if refresh, err = s.nextRefresh(ctx, d.Family, labelAfterCode, d.code); err != nil {
			return "", err
		}
		if d.Continuation != nil && d.Continuation.next != "" {
			refresh = d.Continuation.next
		}
		idle := now.Add(s.cfg.RefreshIdleLifetime)
		if idle.After(familyExp) {
			idle = familyExp
		}
		scopes := d.Scopes
		if d.Continuation != nil {
			// What is left of the refresh token it replaces, however the
			// access token was narrowed (RFC 6749 §6).
			scopes = d.Continuation.kept
		}
		next = &storage.RefreshToken{
			Hash: token.Hash(refresh), Family: d.Family, ClientID: c.ID, Subject: d.Subject,
			Audience: apiID(d.API), Scopes: scopes, IssuedAt: now.UTC(), ExpiresAt: idle.UTC(),
		}
	}
	if d.Continuation != nil {
		if d.Continuation.retry {
			// A retry of a rotation done within the retry window: its
			// successor, stored by the first request, is the answer.
			return refresh, nil
		}
		old, err := s.store.RotateRefresh(ctx, d.Family, d.Continuation.hash, next)
		if errors.Is(err, storage.ErrAlreadyUsed) {
			// A concurrent refresh of the same token by the same client
			// won the race: within the retry window it stored this very
			// successor, which both answers carry.
			retry, rerr := s.rotationRetry(ctx, c, old, refresh, now)
			if rerr != nil {
				return "", rerr
			}
			if retry {
				return refresh, nil
			}
		}
		switch {
		case errors.Is(err, storage.ErrAlreadyUsed):
			// RFC 9700 §4.14.2: a rotated token used again means theft,
			// outside the retry window (and by another client, or after
			// its successor was used) also a concurrent refresh that lost
			// the race: the family is revoked, the winner's new tokens
			// with it (docs/ARCHITECTURE.md, "Retries and grace windows").
			if rerr := s.store.RevokeFamily(ctx, d.Family); rerr != nil {
				return "", rerr
			}
			s.refreshReused(ctx, c.ID, d.Subject, d.Family)
			return "", oauth.ErrInvalidGrant.WithDescription("refresh token reused: the grant is revoked")
		case errors.Is(err, storage.ErrRevoked), errors.Is(err, storage.ErrNotFound):
			return "", oauth.ErrInvalidGrant.WithDescription("invalid refresh token")
		case err != nil:
			return "", err
		}
		s.refreshRotated(ctx, c.ID, d.Subject, d.Family)
		return refresh, nil
	}
	fam := &storage.Family{
		ID: d.Family, ClientID: c.ID, Subject: d.Subject, Audience: apiID(d.API), Scopes: d.Scopes,
		AuthTime: d.AuthTime.UTC(), Claims: d.Claims, CreatedAt: now.UTC(), ExpiresAt: familyExp.UTC(),
	}
	if err := s.store.CreateFamily(ctx, fam, next); err != nil {
		switch {
		case errors.Is(err, storage.ErrDuplicate) && d.code != "" && s.retryOn():
			// Only an exchange of the same code stores this family: the
			// first exchange and its retry. Both answer with the family's
			// first refresh token while it is still the current one.
			same, rerr := s.firstExchangeRetry(ctx, c, d.Family, next)
			if rerr != nil {
				return "", rerr
			}
			if same {
				return refresh, nil
			}
			if rerr := s.store.RevokeFamily(ctx, d.Family); rerr != nil {
				return "", rerr
			}
			return "", oauth.ErrInvalidGrant.WithDescription("the code was already used: its tokens are revoked")
		case errors.Is(err, storage.ErrDuplicate):
			return "", oauth.ErrInvalidGrant.WithDescription("the grant was already exchanged")
		case errors.Is(err, storage.ErrRevoked):
			// A replay of the code revoked the family before this first
			// exchange stored it: nothing signed here leaves the server.
			return "", oauth.ErrInvalidGrant.WithDescription("the code was replayed: the grant is revoked")
		}
		return "", err
	}
	return refresh, nil
}

func apiID(api *storage.API) string {
	if api == nil {
		return ""
	}
	return api.Identifier
}
