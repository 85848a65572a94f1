package storage

import "time"

// AuthRequest is a pending authorization request (RFC 6749 §4.1.1), kept
// server-side while the user signs in at the host application and answers the
// consent page, so that nothing the browser sends back on return is trusted.
type AuthRequest struct {
	// ID is a random, unguessable handle given to the browser.
	ID string `json:"id" bson:"id"`
	// ClientID is the client that sent the request.
	ClientID string `json:"client_id" bson:"client_id"`
	// RedirectURI is the redirect URI the response goes to: the one the
	// request named (matched against the registered ones), or the client's
	// single registered one.
	RedirectURI string `json:"redirect_uri" bson:"redirect_uri"`
	// RedirectURIExplicit is true when the request named redirect_uri (rather
	// than relying on the client's single registered one).
	RedirectURIExplicit bool `json:"redirect_uri_explicit,omitempty" bson:"redirect_uri_explicit,omitempty"`
	// ResponseType is the normalised response_type ("code", "id_token", ...).
	ResponseType string `json:"response_type" bson:"response_type"`
	// ResponseMode is the response_mode asked for, empty for the default.
	ResponseMode string `json:"response_mode,omitempty" bson:"response_mode,omitempty"`
	// Scopes are the requested scopes.
	Scopes []string `json:"scope,omitempty" bson:"scope,omitempty"`
	// Audience is the API the request is for, empty for a sign-in only.
	Audience string `json:"audience,omitempty" bson:"audience,omitempty"`
	// State is the client's state, echoed byte for byte.
	State string `json:"state,omitempty" bson:"state,omitempty"`
	// Nonce is the OIDC nonce, echoed in the ID token.
	Nonce string `json:"nonce,omitempty" bson:"nonce,omitempty"`
	// CodeChallenge is the PKCE challenge (RFC 7636), empty without PKCE.
	CodeChallenge string `json:"code_challenge,omitempty" bson:"code_challenge,omitempty"`
	// CodeChallengeMethod is the PKCE method, always "S256" with a challenge.
	CodeChallengeMethod string `json:"code_challenge_method,omitempty" bson:"code_challenge_method,omitempty"`
	// Prompt holds the prompt values (OIDC Core §3.1.2.1).
	Prompt []string `json:"prompt,omitempty" bson:"prompt,omitempty"`
	// MaxAge is the max_age in seconds, 0 when not sent.
	MaxAge int64 `json:"max_age,omitempty" bson:"max_age,omitempty"`
	// CSRF is the anti-forgery token of the consent form.
	CSRF string `json:"csrf,omitempty" bson:"csrf,omitempty"`
	// Extra holds parameters the server does not model itself.
	Extra map[string]string `json:"extra,omitempty" bson:"extra,omitempty"`
	// CreatedAt is when the request arrived.
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
	// ExpiresAt is when the pending request is dropped.
	ExpiresAt time.Time `json:"expires_at" bson:"expires_at"`
}

// AuthCode is an issued authorization code (RFC 6749 §4.1.2), stored by the
// hash of its value. It is single use: ConsumeCode marks it used atomically
// and keeps a used marker until CodeKeptUntil so that a replay can be
// detected while the tokens issued from it live.
type AuthCode struct {
	// Hash is the hash of the code value (token.Hash); the value is never stored.
	Hash string `json:"hash" bson:"hash"`
	// ClientID is the client the code was issued to; only it may redeem it.
	ClientID string `json:"client_id" bson:"client_id"`
	// RedirectURI is the redirect URI the code was sent to.
	RedirectURI string `json:"redirect_uri" bson:"redirect_uri"`
	// RedirectURIExplicit is true when the authorization request named
	// redirect_uri: the token request must then repeat it (RFC 6749 §4.1.3).
	RedirectURIExplicit bool `json:"redirect_uri_explicit,omitempty" bson:"redirect_uri_explicit,omitempty"`
	// Subject is the user who authorized.
	Subject string `json:"sub" bson:"sub"`
	// Audience is the API the tokens are for, empty for a sign-in only.
	Audience string `json:"audience,omitempty" bson:"audience,omitempty"`
	// RequestedScopes are the scopes the client asked for.
	RequestedScopes []string `json:"requested_scope,omitempty" bson:"requested_scope,omitempty"`
	// Scopes are the scopes granted (after RBAC, consent and rules).
	Scopes []string `json:"scope,omitempty" bson:"scope,omitempty"`
	// Nonce is the OIDC nonce, echoed in the ID token.
	Nonce string `json:"nonce,omitempty" bson:"nonce,omitempty"`
	// CodeChallenge is the PKCE challenge the verifier must match.
	CodeChallenge string `json:"code_challenge,omitempty" bson:"code_challenge,omitempty"`
	// CodeChallengeMethod is the PKCE method ("S256").
	CodeChallengeMethod string `json:"code_challenge_method,omitempty" bson:"code_challenge_method,omitempty"`
	// AuthTime is when the user authenticated (OIDC auth_time).
	AuthTime time.Time `json:"auth_time" bson:"auth_time"`
	// Family is the token family every token issued from this code joins;
	// a replay revokes it.
	Family string `json:"family" bson:"family"`
	// IDTokenClaims are the custom ID-token claims decided at authorization
	// time (by rules), issued at the exchange and kept by the family.
	IDTokenClaims map[string]any `json:"id_token_claims,omitempty" bson:"id_token_claims,omitempty"`
	// AccessTokenClaims are the custom access-token claims decided at
	// authorization time (by rules), issued at the exchange.
	AccessTokenClaims map[string]any `json:"access_token_claims,omitempty" bson:"access_token_claims,omitempty"`
	// Used is set by ConsumeCode.
	Used bool `json:"used,omitempty" bson:"used,omitempty"`
	// ExpiresAt is the end of the code's short life.
	ExpiresAt time.Time `json:"expires_at" bson:"expires_at"`
	// RetainUntil, set by the server, is how long a consumed code is kept
	// as a used marker (storage.UsedCodeMarker) so that a replay after
	// ExpiresAt still revokes its family: the latest expiry of the tokens
	// issued from it. Zero keeps it until ExpiresAt only.
	RetainUntil time.Time `json:"retain_until,omitempty" bson:"retain_until,omitempty"`
	// Sealed, set by the server, is the grant of the code encrypted under
	// a key derived from the code's value and a server secret: only a
	// request presenting the code can read it. The used marker keeps it,
	// so that a retry of the first exchange (same client, same PKCE
	// verifier, within the server's retry window) can be answered with the
	// same tokens. Opaque to the store.
	Sealed string `json:"sealed,omitempty" bson:"sealed,omitempty"`
	// UsedAt is when ConsumeCode consumed the code, by the store's clock;
	// set on the consumed code and on its used marker.
	UsedAt time.Time `json:"used_at,omitempty" bson:"used_at,omitempty"`
}

// Family is one grant given to one client for one user: the access, ID and
// refresh tokens issued from one authorization share it, so that revoking the
// family (code replay, refresh-token reuse, revocation of a refresh token)
// revokes all of them (RFC 9700 §4.14.2).
type Family struct {
	// ID is the family id, random; refresh tokens and access-token jtis start with it.
	ID string `json:"id" bson:"id"`
	// ClientID is the client the grant was given to.
	ClientID string `json:"client_id" bson:"client_id"`
	// Subject is the user who gave it.
	Subject string `json:"sub" bson:"sub"`
	// Audience is the API of the family's tokens.
	Audience string `json:"audience,omitempty" bson:"audience,omitempty"`
	// Scopes are the scopes granted.
	Scopes []string `json:"scope,omitempty" bson:"scope,omitempty"`
	// AuthTime is when the user signed in.
	AuthTime time.Time `json:"auth_time" bson:"auth_time"`
	// Claims holds what was decided at login and must be returned later
	// without re-running rules (custom ID-token claims shown by /userinfo).
	Claims map[string]any `json:"claims,omitempty" bson:"claims,omitempty"`
	// Revoked is set by RevokeFamily.
	Revoked bool `json:"revoked,omitempty" bson:"revoked,omitempty"`
	// CreatedAt is when the family was created.
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
	// ExpiresAt is the absolute end of the family: no token of it is valid
	// after this instant.
	ExpiresAt time.Time `json:"expires_at" bson:"expires_at"`
}

// RefreshToken is an issued refresh token (RFC 6749 §6), stored by the hash
// of its value within its family. Rotation marks the old token used and keeps
// it until it expires, so that its reuse is detected.
type RefreshToken struct {
	// Hash is the hash of the token value (token.Hash); the raw token is never stored.
	Hash string `json:"hash" bson:"hash"`
	// Family is the id of the token's family.
	Family string `json:"family" bson:"family"`
	// ClientID is the client the token was issued to.
	ClientID string `json:"client_id" bson:"client_id"`
	// Subject is the user of the grant.
	Subject string `json:"sub" bson:"sub"`
	// Audience is the API the token refreshes access to.
	Audience string `json:"audience,omitempty" bson:"audience,omitempty"`
	// Scopes are the scopes the token may obtain.
	Scopes []string `json:"scope,omitempty" bson:"scope,omitempty"`
	// Used is set by RotateRefresh on the token it replaces.
	Used bool `json:"used,omitempty" bson:"used,omitempty"`
	// RotatedAt is when RotateRefresh replaced the token, by the store's
	// clock; zero while it is unused.
	RotatedAt time.Time `json:"rotated_at,omitempty" bson:"rotated_at,omitempty"`
	// NextHash is the hash of the token RotateRefresh stored in its place;
	// empty while it is unused. With RotatedAt it is what the first
	// rotation decided, so that a retry within the server's retry window
	// can be recognised and answered with the same successor.
	NextHash string `json:"next_hash,omitempty" bson:"next_hash,omitempty"`
	// JKT is the RFC 7638 thumbprint of the DPoP key the token is bound
	// to (RFC 9449 §5: a public client's refresh token); a refresh must
	// present a proof of that key. Empty: not bound. Rotation carries it
	// to the successor.
	JKT string `json:"jkt,omitempty" bson:"jkt,omitempty"`
	// IssuedAt is when the token was issued.
	IssuedAt time.Time `json:"iat" bson:"iat"`
	// ExpiresAt is the idle expiry, never later than the family's.
	ExpiresAt time.Time `json:"expires_at" bson:"expires_at"`
}

// Revocation records a revoked access token by its "jti" until it expires
// (RFC 7009 §2.1).
type Revocation struct {
	// JTI is the revoked access token's "jti".
	JTI string `json:"jti" bson:"jti"`
	// Family is the token's family, empty for client-credentials tokens.
	Family string `json:"family,omitempty" bson:"family,omitempty"`
	// ExpiresAt is when the token would have expired; the record may go then.
	ExpiresAt time.Time `json:"expires_at" bson:"expires_at"`
}

// Resolution is what a token request needs of the directory in one read:
// the client, the API and the client grant joining them. Missing records
// are nil.
type Resolution struct {
	// Client is the client, nil when unknown.
	Client *Client
	// API is the API, nil when unknown or when no audience was given.
	API *API
	// Grant is the client grant joining them, nil when none.
	Grant *ClientGrant
}
