package authz

import (
	"context"
	"errors"

	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// opaqueSecretBytes is the entropy of an opaque access token's secret:
// 256 bits.
const opaqueSecretBytes = 32

// issueAccess returns the access token of at for the API: a JWT signed with
// alg, or, for an API whose TokenFormat is opaque, a reference token whose
// claims are stored by its hash (docs/OPAQUE.md). The token's family (its
// jti's) routes the lookup and revokes it with the family.
func (s *Server) issueAccess(ctx context.Context, api *storage.API, alg string, at *token.AccessToken) (string, error) {
	if api == nil || api.TokenFormat != storage.TokenFormatOpaque {
		return s.signAccess(ctx, alg, at)
	}
	payload, err := at.AppendJSON(nil)
	if err != nil {
		return "", err
	}
	family := resource.FamilyOf(at.JTI)
	route := family
	if route == "" {
		route = "-"
	}
	raw := resource.OpaquePrefix + route + "." + token.Random(opaqueSecretBytes)
	rec := &storage.OpaqueToken{
		Hash: token.Hash(raw), Family: family, JTI: at.JTI, ClientID: at.ClientID, Subject: at.Subject,
		Audience: at.Audience, Scope: at.Scope, Claims: string(payload),
		IssuedAt: at.IssuedAt.UTC(), ExpiresAt: at.ExpiresAt.UTC(),
	}
	if err := s.store.CreateOpaque(ctx, rec); err != nil {
		return "", err
	}
	return raw, nil
}

// lookupOpaque reads the live opaque token raw with one store call: nil
// for a token that is unknown, revoked or expired (by the server's clock);
// the error is only for storage failures.
func (s *Server) lookupOpaque(ctx context.Context, family, raw string) (*storage.OpaqueToken, error) {
	rec, err := s.store.GetOpaque(ctx, family, token.Hash(raw))
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrRevoked):
		return nil, nil
	case err != nil:
		return nil, err
	case !s.cfg.Now().Before(rec.ExpiresAt):
		return nil, nil
	}
	return rec, nil
}

// opaqueClaims returns the live opaque token's claims, as its JWT would
// carry them; nil when it is not live.
func (s *Server) opaqueClaims(ctx context.Context, family, raw string) (*token.Claims, error) {
	rec, err := s.lookupOpaque(ctx, family, raw)
	if err != nil || rec == nil {
		return nil, err
	}
	return token.ParseClaims([]byte(rec.Claims))
}

// resolveOpaque is the in-process Authorizer's resource.OpaqueResolver.
func (s *Server) resolveOpaque(ctx context.Context, raw string) (*token.Claims, error) {
	family, ok := resource.SplitOpaque(raw)
	if !ok {
		return nil, resource.ErrInactive
	}
	claims, err := s.opaqueClaims(ctx, family, raw)
	if err == nil && claims == nil {
		err = resource.ErrInactive
	}
	return claims, err
}

// revokeOpaque revokes an opaque access token issued to clientID at once
// (RFC 7009 §2.1); see Revoke.
func (s *Server) revokeOpaque(ctx context.Context, clientID, family, raw string) error {
	rec, err := s.lookupOpaque(ctx, family, raw)
	switch {
	case err != nil:
		return AsError(err)
	case rec == nil:
		return nil
	case rec.ClientID != clientID:
		return errForeignToken
	}
	if err := s.store.RevokeOpaque(ctx, family, rec.Hash); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return AsError(err)
	}
	s.tokenRevoked(ctx, clientID, rec.Subject, "jti", rec.JTI)
	return nil
}
