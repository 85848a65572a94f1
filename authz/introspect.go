package authz

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// Introspection is the RFC 7662 §2.2 view of a token. An inactive token
// carries only Active=false.
type Introspection struct {
	// Active is whether the token is valid now: issued here, not expired,
	// not revoked.
	Active bool `json:"active"`
	// Scope is the token's space-separated scopes.
	Scope string `json:"scope,omitempty"`
	// ClientID is the client the token was issued to.
	ClientID string `json:"client_id,omitempty"`
	// Subject is the token's "sub": a user id, or "<client_id>@clients".
	Subject string `json:"sub,omitempty"`
	// Audience is the token's "aud".
	Audience []string `json:"aud,omitempty"`
	// Issuer is the token's "iss", this server's issuer identifier.
	Issuer string `json:"iss,omitempty"`
	// ExpiresAt is "exp" in seconds since the epoch.
	ExpiresAt int64 `json:"exp,omitempty"`
	// IssuedAt is "iat" in seconds since the epoch.
	IssuedAt int64 `json:"iat,omitempty"`
	// JTI is the token identifier; empty for refresh tokens.
	JTI string `json:"jti,omitempty"`
	// TokenType is "Bearer" for access tokens, "DPoP" for DPoP-bound ones
	// (RFC 9449 §6.2), and "refresh_token" for refresh tokens.
	TokenType string `json:"token_type,omitempty"`
	// Confirmation is "cnf" of a DPoP-bound access token (RFC 9449 §6.2).
	Confirmation *Confirmation `json:"cnf,omitempty"`
}

// Confirmation is the key a token is bound to (RFC 7800 §3.1 "cnf").
type Confirmation struct {
	// JKT is the RFC 7638 thumbprint of the DPoP key (RFC 9449 §6.1).
	JKT string `json:"jkt"`
}

// inactive returns a fresh inactive answer: a caller may change what it
// gets without changing anyone else's.
func inactive() *Introspection { return &Introspection{} }

// Introspect returns the RFC 7662 view of any token this server issued.
// Unknown, expired, revoked or foreign tokens are inactive; the error is only
// for storage failures, so a caller never reads an outage as "inactive".
func (s *Server) Introspect(ctx context.Context, raw string) (*Introspection, error) {
	if _, opaque := resource.SplitOpaque(raw); !opaque {
		if family, ok := refreshFamily(raw); ok {
			return s.introspectRefresh(ctx, family, raw)
		}
	}
	claims, err := s.verifyLive(ctx, raw)
	if err != nil {
		return nil, AsError(err)
	}
	if claims == nil {
		return inactive(), nil
	}
	in := &Introspection{
		Active:    true,
		Scope:     claims.Scope,
		ClientID:  claims.ClientID,
		Subject:   claims.Subject,
		Audience:  claims.Audience,
		Issuer:    claims.Issuer,
		ExpiresAt: claims.ExpiresAt.Unix(),
		IssuedAt:  claims.IssuedAt.Unix(),
		JTI:       claims.JTI,
		TokenType: "Bearer",
	}
	if claims.JKT != "" {
		in.TokenType, in.Confirmation = "DPoP", &Confirmation{JKT: claims.JKT}
	}
	return in, nil
}

// introspectFor is the introspection endpoint's answer to the
// authenticated client c: the token's own client learns about it, and so
// does a resource server of the token's audience (Client.IntrospectAudiences)
// for an access token; every other client is told {"active":false}, as for
// an unknown token (RFC 7662 §4: the server decides which tokens a caller
// may learn about). Refresh tokens are described to their own client only.
func (s *Server) introspectFor(ctx context.Context, c *storage.Client, raw string) (*Introspection, error) {
	in, err := s.Introspect(ctx, raw)
	if err != nil || !in.Active || mayIntrospect(c, in) {
		return in, err
	}
	return inactive(), nil
}

// mayIntrospect reports whether c may read the active token in.
func mayIntrospect(c *storage.Client, in *Introspection) bool {
	if in.ClientID == c.ID {
		return true
	}
	if in.TokenType != "Bearer" {
		return false
	}
	for _, aud := range in.Audience {
		if contains(c.IntrospectAudiences, aud) {
			return true
		}
	}
	return false
}

func (s *Server) introspectRefresh(ctx context.Context, family, raw string) (*Introspection, error) {
	rt, err := s.store.GetRefresh(ctx, family, token.Hash(raw))
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrRevoked):
		return inactive(), nil
	case err != nil:
		return nil, AsError(err)
	case rt.Used:
		return inactive(), nil
	}
	in := &Introspection{
		Active:    true,
		Scope:     oauth.FormatScope(rt.Scopes),
		ClientID:  rt.ClientID,
		Subject:   rt.Subject,
		Audience:  nonEmpty(rt.Audience),
		Issuer:    s.cfg.Issuer,
		ExpiresAt: rt.ExpiresAt.Unix(),
		IssuedAt:  rt.IssuedAt.Unix(),
		TokenType: "refresh_token",
	}
	if rt.JKT != "" {
		in.Confirmation = &Confirmation{JKT: rt.JKT}
	}
	return in, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// verifyLive verifies one of this server's access tokens and checks that it
// is live: not expired, not revoked. A token that is not returns nil
// claims; the error is only for storage failures. An opaque token is read
// from the store (opaque.go).
func (s *Server) verifyLive(ctx context.Context, raw string) (*token.Claims, error) {
	if family, ok := resource.SplitOpaque(raw); ok {
		return s.opaqueClaims(ctx, family, raw)
	}
	claims, err := s.verifyAny(ctx, raw)
	if err != nil {
		if errors.Is(err, token.ErrInvalid) {
			return nil, nil
		}
		return nil, err
	}
	// The verifier allows a clock-skew leeway past exp for resource servers
	// whose clocks differ from ours; the issuer's own answer has no skew to
	// allow for (RFC 7662 §2.2: an expired token is inactive).
	if !s.cfg.Now().Before(claims.ExpiresAt) {
		return nil, nil
	}
	revoked, err := s.store.TokenRevoked(ctx, resource.FamilyOf(claims.JTI), claims.JTI)
	if err != nil || revoked {
		return nil, err
	}
	return claims, nil
}

// verifyAny verifies one of this server's access tokens whatever API it is
// for: the audience is read from the payload, then the full verification
// (signature included) runs against it.
func (s *Server) verifyAny(ctx context.Context, raw string) (*token.Claims, error) {
	aud, ok := peekAudience(raw)
	if !ok {
		return nil, token.ErrMalformed
	}
	return s.verifier(aud).Verify(ctx, raw)
}

// maxTokenBytes bounds what peekAudience decodes; the verifier has the same
// default limit.
const maxTokenBytes = 16 << 10

// peekClaims decodes the "iss" and "aud" of an unverified JWT payload.
func peekClaims(raw string) (iss string, aud json.RawMessage, ok bool) {
	if len(raw) > maxTokenBytes {
		return "", nil, false
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", nil, false
	}
	var c struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return "", nil, false
	}
	return c.Iss, c.Aud, true
}

// peekAudience returns the first "aud" of an unverified JWT payload.
func peekAudience(raw string) (string, bool) {
	_, aud, ok := peekClaims(raw)
	if !ok || len(aud) == 0 {
		return "", false
	}
	var one string
	if json.Unmarshal(aud, &one) == nil {
		return one, one != ""
	}
	var many []string
	if json.Unmarshal(aud, &many) == nil && len(many) > 0 {
		return many[0], many[0] != ""
	}
	return "", false
}

// refreshFamily splits a refresh token "<family>.<secret>" (one dot; a JWT
// has two).
func refreshFamily(raw string) (string, bool) {
	i := strings.IndexByte(raw, '.')
	if i <= 0 || i == len(raw)-1 || strings.IndexByte(raw[i+1:], '.') >= 0 || len(raw) > 512 {
		return "", false
	}
	return raw[:i], true
}

// errForeignToken refuses revoking another client's token (RFC 7009 §2.1).
var errForeignToken = oauth.ErrUnauthorizedClient.WithDescription("the token was not issued to this client")

// revokeFor is the revocation endpoint's Revoke for the authenticated client
// c. A public client proves no identity (anyone may send its client_id), so
// another client's token is answered like an unknown one, success with
// nothing done: the endpoint is no validity oracle. An authenticated
// confidential client still gets unauthorized_client (RFC 7009 §2.1, §2.2).
func (s *Server) revokeFor(ctx context.Context, c *storage.Client, raw string) error {
	err := s.Revoke(ctx, c.ID, raw)
	if c.Public && err == error(errForeignToken) {
		return nil
	}
	return err
}

// Revoke revokes a token issued to clientID (RFC 7009 §2.1): an access
// token's jti is recorded until the token expires, an opaque access token's
// record is marked revoked; a refresh token revokes
// its whole family, access tokens included. A valid token issued to another
// client is refused with unauthorized_client and left untouched (RFC 7009
// §2.1: the server verifies the token was issued to the requesting client).
// Unknown, invalid or expired tokens are ignored (nil error), as RFC 7009
// §2.2 asks; storage failures are errors, so an outage is never answered as
// success.
func (s *Server) Revoke(ctx context.Context, clientID, raw string) error {
	if family, ok := resource.SplitOpaque(raw); ok {
		return s.revokeOpaque(ctx, clientID, family, raw)
	}
	if family, ok := refreshFamily(raw); ok {
		rt, err := s.store.GetRefresh(ctx, family, token.Hash(raw))
		switch {
		case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrRevoked):
			return nil
		case err != nil:
			return AsError(err)
		case rt.ClientID != clientID:
			return errForeignToken
		}
		if err := s.store.RevokeFamily(ctx, family); err != nil {
			return AsError(err)
		}
		s.tokenRevoked(ctx, clientID, rt.Subject, "family", family)
		return nil
	}
	claims, err := s.verifyAny(ctx, raw)
	if err != nil {
		if errors.Is(err, token.ErrInvalid) {
			return nil
		}
		return AsError(err)
	}
	if claims.ClientID != clientID {
		return errForeignToken
	}
	// Keep the record a leeway past expiry: the token is still accepted
	// within the leeway.
	until := claims.ExpiresAt.Add(s.cfg.Leeway + time.Second)
	if err := s.store.RevokeToken(ctx, &storage.Revocation{JTI: claims.JTI, Family: resource.FamilyOf(claims.JTI), ExpiresAt: until}); err != nil {
		return AsError(err)
	}
	s.cache.Forget(raw)
	s.reuse.forget(claims.JTI)
	s.tokenRevoked(ctx, clientID, claims.Subject, "jti", claims.JTI)
	return nil
}
