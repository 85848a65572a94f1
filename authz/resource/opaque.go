package resource

import (
	"context"
	"errors"
	"strings"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/token"
)

// OpaquePrefix starts every opaque access token scopekit issues:
// "skat_<family>.<secret>", the family "-" for a token outside any family.
// The prefix tells an opaque token from a JWT before any parsing; the
// family routes the issuer's lookup to the family's records, as a refresh
// token's does.
const OpaquePrefix = "skat_"

// maxOpaqueBytes bounds an opaque token: a family id and a secret of a few
// dozen characters each.
const maxOpaqueBytes = 256

// SplitOpaque returns the family of an opaque access token ("" for "-")
// and whether raw has the shape of one: the prefix, a non-empty family, one
// dot and a non-empty secret of URL-safe characters, within a length bound.
func SplitOpaque(raw string) (family string, ok bool) {
	if len(raw) > maxOpaqueBytes || !strings.HasPrefix(raw, OpaquePrefix) {
		return "", false
	}
	rest := raw[len(OpaquePrefix):]
	i := strings.IndexByte(rest, '.')
	if i <= 0 || i == len(rest)-1 || !urlSafe(rest[:i]) || !urlSafe(rest[i+1:]) {
		return "", false
	}
	if family = rest[:i]; family == "-" {
		family = ""
	}
	return family, true
}

// urlSafe reports whether s holds only base64url characters.
func urlSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// OpaqueResolver resolves an opaque access token to the claims it stands
// for: the issuer's store in process (authz.Server.Authorizer), the
// issuer's introspection endpoint for a remote API (RemoteConfig.Introspection).
// A token that is unknown, revoked or expired is an error wrapping
// token.ErrInvalid; any other error means the answer is unknown, and the
// token is refused with temporarily_unavailable.
type OpaqueResolver func(ctx context.Context, raw string) (*token.Claims, error)

// ErrInactive is what an OpaqueResolver returns for a token that is not
// active (RFC 7662 §2.2): unknown, revoked or expired.
var ErrInactive = errors.Join(token.ErrInvalid, errors.New("resource: the token is not active"))

// verifyOpaque checks an opaque token through the resolver: one lookup,
// then the audience and the expiry, and builds the same Principal a JWT
// gives.
func (a *Authorizer) verifyOpaque(ctx context.Context, raw, audience string) (*Principal, error) {
	claims, err := a.opaque(ctx, raw)
	switch {
	case errors.Is(err, token.ErrInvalid):
		return nil, oauth.ErrInvalidToken.WithDescription("the token is not active").WithCause(err)
	case err != nil:
		return nil, oauth.ErrTemporarilyUnavailable.WithCause(err)
	case !containsString(claims.Audience, audience):
		return nil, oauth.ErrInvalidToken.WithDescription("the token is not for this API")
	case !a.now().Before(claims.ExpiresAt):
		return nil, oauth.ErrInvalidToken.WithDescription("the token has expired")
	}
	return principalOf(claims), nil
}
