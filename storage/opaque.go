package storage

import (
	"context"
	"time"
)

// The access-token formats of an API (API.TokenFormat).
const (
	// TokenFormatJWT is a signed JWT access token (RFC 9068); the default.
	TokenFormatJWT = "jwt"
	// TokenFormatOpaque is an opaque reference token (OpaqueToken).
	TokenFormatOpaque = "opaque"
)

// OpaqueToken is an opaque (reference) access token, stored by the hash of
// its value: what the token stands for lives here, not in the token. It is
// what introspection (RFC 7662 §2.2) and a resource server's check need.
type OpaqueToken struct {
	// Hash is the hash of the token value (token.Hash); the value is never stored.
	Hash string `json:"hash" bson:"hash"`
	// Family is the token's family, empty for a client-credentials token;
	// revoking the family revokes the token.
	Family string `json:"family,omitempty" bson:"family,omitempty"`
	// JTI is the token identifier.
	JTI string `json:"jti" bson:"jti"`
	// ClientID is the client the token was issued to.
	ClientID string `json:"client_id" bson:"client_id"`
	// Subject is the token's "sub".
	Subject string `json:"sub" bson:"sub"`
	// Audience is the token's "aud".
	Audience []string `json:"aud,omitempty" bson:"aud,omitempty"`
	// Scope is the space-separated "scope".
	Scope string `json:"scope,omitempty" bson:"scope,omitempty"`
	// Claims is the JSON object of every claim the token stands for, as a
	// JWT access token would carry them (custom claims included). Opaque
	// to the store.
	Claims string `json:"claims" bson:"claims"`
	// Revoked is set by RevokeOpaque.
	Revoked bool `json:"revoked,omitempty" bson:"revoked,omitempty"`
	// IssuedAt is when the token was issued.
	IssuedAt time.Time `json:"iat" bson:"iat"`
	// ExpiresAt is when the token expires; the record may go then.
	ExpiresAt time.Time `json:"expires_at" bson:"expires_at"`
}

// OpaqueTokens keeps opaque access tokens. Reads and writes name the
// token's family (empty for none) as well as its hash: a driver keeps the
// token with its family, so that the family's revocation is seen by the
// same read.
type OpaqueTokens interface {
	// CreateOpaque stores a token until its ExpiresAt. ErrInvalid without
	// hash or expiry; ErrDuplicate if a live token has the hash.
	CreateOpaque(ctx context.Context, t *OpaqueToken) error
	// GetOpaque returns the live token of the family with the hash.
	// ErrNotFound if absent, expired or of another family; ErrRevoked if
	// the token or its family is revoked.
	GetOpaque(ctx context.Context, family, hash string) (*OpaqueToken, error)
	// RevokeOpaque marks the token revoked until it expires. ErrNotFound
	// if absent or expired; revoking twice is not an error.
	RevokeOpaque(ctx context.Context, family, hash string) error
}

// ValidOpaque checks a record given to CreateOpaque.
func ValidOpaque(t *OpaqueToken) error {
	if t == nil || t.Hash == "" || t.ExpiresAt.IsZero() || t.Revoked {
		return ErrInvalid
	}
	return nil
}
