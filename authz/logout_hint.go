package authz

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/token"
)

// idTokenHint is a verified id_token_hint (OIDC RP-Initiated Logout 1.0
// §2): one of this issuer's ID tokens, for the client it names.
type idTokenHint struct {
	clientID, subject, sid string
}

// verifyIDTokenHint verifies an id_token_hint: this issuer's signature,
// issuer and typ, at most maxTokenBytes, its audience a client. An expired
// token is accepted (§2: the hint may be presented after the ID token's
// expiry), so it is verified as of its own iat, which must not be in the
// future.
func (s *Server) verifyIDTokenHint(ctx context.Context, raw string) (*idTokenHint, error) {
	bad := oauth.ErrInvalidRequest.WithDescription("invalid id_token_hint")
	aud, ok := peekAudience(raw)
	if !ok {
		return nil, bad
	}
	iat, ok := peekIssuedAt(raw)
	if !ok || iat.After(s.cfg.Now().Add(s.cfg.Leeway)) {
		return nil, bad
	}
	v := &token.Verifier{Issuer: s.cfg.Issuer, Audience: aud, Algorithms: allAlgorithms, Keys: s.keys,
		Types: []string{token.TypeIDToken}, MaxSize: maxTokenBytes, Now: func() time.Time { return iat }}
	claims, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, bad
	}
	if len(claims.Audience) != 1 && claims.AuthorizedParty != aud {
		return nil, bad
	}
	sid, _ := claims.Raw["sid"].(string)
	return &idTokenHint{clientID: aud, subject: claims.Subject, sid: sid}, nil
}

// peekIssuedAt decodes the "iat" of an unverified JWT payload.
func peekIssuedAt(raw string) (time.Time, bool) {
	if len(raw) > maxTokenBytes {
		return time.Time{}, false
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Iat *json.Number `json:"iat"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Iat == nil {
		return time.Time{}, false
	}
	n, err := c.Iat.Int64()
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}
