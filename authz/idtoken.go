package authz

import (
	"context"
	"encoding/json"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// UserClaims returns the standard claims of the user that the scopes
// release (OIDC Core §5.4): profile, email, address and phone. Only claims
// the user has are included.
func UserClaims(u *storage.User, scopes []string) map[string]any {
	out := map[string]any{}
	put := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	if contains(scopes, oauth.ScopeProfile) {
		put("name", u.Name)
		put("family_name", u.FamilyName)
		put("given_name", u.GivenName)
		put("middle_name", u.MiddleName)
		put("nickname", u.Nickname)
		put("preferred_username", u.PreferredUsername)
		put("profile", u.Profile)
		put("picture", u.Picture)
		put("website", u.Website)
		put("gender", u.Gender)
		put("birthdate", u.Birthdate)
		put("zoneinfo", u.Zoneinfo)
		put("locale", u.Locale)
		if !u.UpdatedAt.IsZero() {
			out["updated_at"] = u.UpdatedAt.Unix()
		}
	}
	if contains(scopes, oauth.ScopeEmail) && u.Email != "" {
		out["email"] = u.Email
		out["email_verified"] = u.EmailVerified
	}
	if contains(scopes, oauth.ScopeAddress) && u.Address != nil && *u.Address != (storage.Address{}) {
		out["address"] = u.Address
	}
	if contains(scopes, oauth.ScopePhone) && u.PhoneNumber != "" {
		out["phone_number"] = u.PhoneNumber
		out["phone_number_verified"] = u.PhoneNumberVerified
	}
	return out
}

// idClaims builds the claim set of a user grant's ID token (OIDC Core §2):
// the standard claims the scopes release, the custom claims decided at
// login, and the registered claims, which custom claims never override.
func (s *Server) idClaims(c *storage.Client, d *Decision, now time.Time) map[string]any {
	claims := UserClaims(d.User, d.Scopes)
	for k, v := range d.Claims {
		claims[k] = v
	}
	claims["iss"] = s.cfg.Issuer
	claims["sub"] = d.Subject
	claims["aud"] = c.ID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(s.cfg.IDTokenLifetime).Unix()
	if !d.AuthTime.IsZero() {
		claims["auth_time"] = d.AuthTime.Unix()
	}
	if d.Nonce != "" {
		claims["nonce"] = d.Nonce
	}
	return claims
}

// idTokenAlg is the client's ID-token algorithm, RS256 by default.
func idTokenAlg(c *storage.Client) string {
	if c.IDTokenSigningAlg == "" {
		return token.RS256
	}
	return c.IDTokenSigningAlg
}

// signIDToken signs the ID token, with at_hash binding it to the access
// token when one is issued with it (OIDC Core §3.1.3.6).
func (s *Server) signIDToken(ctx context.Context, c *storage.Client, d *Decision, accessToken string, now time.Time) (string, error) {
	alg := idTokenAlg(c)
	key, err := s.signer(ctx, alg)
	if err != nil {
		return "", err
	}
	claims := s.idClaims(c, d, now)
	if accessToken != "" {
		if claims["at_hash"], err = token.LeftHash(alg, accessToken); err != nil {
			return "", err
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return s.sign(ctx, key, token.TypeIDToken, payload)
}
