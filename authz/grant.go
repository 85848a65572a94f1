package authz

import (
	"context"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// Grant runs one grant type at the token endpoint (RFC 6749 §4). Grants are
// registered in Config.Grants, like handlers on a ServeMux; package grant
// holds the standard ones. A grant decides; only the Server mints, signs and
// persists, so rules and storage have one choke point.
type Grant interface {
	// GrantType is the grant_type value the grant answers, e.g.
	// "client_credentials".
	GrantType() string
	// Decide checks the request of an authenticated client and returns what
	// to issue, or an *Error.
	Decide(ctx context.Context, x *Exchange) (*Decision, error)
}

// Exchange is what the Server hands a Grant: the parsed request, the
// authenticated client, what the directory holds for the requested audience,
// and the server itself for shared decisions.
type Exchange struct {
	// Request is the token request.
	Request *TokenRequest
	// Client is the authenticated client.
	Client *storage.Client
	// API is the API named by the request's audience (or the default
	// audience), nil when none was named or it is unknown.
	API *storage.API
	// ClientGrant joins Client and API, nil when there is none.
	ClientGrant *storage.ClientGrant
	// Audience is the audience the request named, or the default one.
	Audience string
	// Now is the instant of the request.
	Now time.Time
	// Server is the server running the exchange.
	Server *Server
}

// Trigger says what caused an issuance; rules see it.
type Trigger string

// The triggers of an issuance.
const (
	// TriggerClientCredentials is a machine-to-machine exchange (RFC 6749 §4.4).
	TriggerClientCredentials Trigger = "client_credentials"
	// TriggerLogin is a user's authorization by code or implicit flow.
	TriggerLogin Trigger = "login"
	// TriggerRefresh is a refresh-token exchange (RFC 6749 §6).
	TriggerRefresh Trigger = "refresh"
)

// Decision is a grant's verdict: who the token is for and what it may do.
type Decision struct {
	// Trigger is the cause of the issuance.
	Trigger Trigger
	// GrantType is the "gty" claim of the access token.
	GrantType string
	// Subject is the "sub" claim.
	Subject string
	// API is the audience of the access token.
	API *storage.API
	// RequestedScopes are the scopes the client asked for.
	RequestedScopes []string
	// Scopes are the scopes granted.
	Scopes []string
	// ConsentedScopes, when not nil, are the scopes the user consented to
	// (on the consent page, or by a stored consent): rules may not add back
	// a scope outside them. Nil where consent does not apply (client
	// credentials, a first-party client that skips consent).
	ConsentedScopes []string

	// User is the user the token acts for; nil for client credentials.
	User *storage.User
	// Family is the token family of a user grant (storage.Family): the
	// access token's jti carries it so that revoking the family revokes the
	// token. Empty for client credentials.
	Family string
	// FamilyExpiresAt is the end of an existing family (refresh); zero when
	// the server creates the family.
	FamilyExpiresAt time.Time
	// AuthTime is when the user authenticated (OIDC Core §2).
	AuthTime time.Time
	// Nonce is the authorization request's nonce, echoed in the ID token.
	Nonce string
	// IssueRefresh asks for a refresh token (offline_access granted and
	// allowed by the API).
	IssueRefresh bool
	// RotateRefresh is the hash of the refresh token being exchanged; the
	// server rotates it atomically as it issues the new one.
	RotateRefresh string
	// RefreshScopes are the scopes of the new refresh token when they differ
	// from Scopes: a refresh that narrows the access token keeps the refresh
	// token's original scope (RFC 6749 §6). Nil means Scopes.
	RefreshScopes []string
	// IDTokenOnly mints the ID token alone (response_type=id_token).
	IDTokenOnly bool
	// AccessClaims are custom access-token claims decided by rules.
	AccessClaims map[string]any
	// Claims are custom claims decided at login and kept for the family
	// (custom ID-token claims returned by /userinfo).
	Claims map[string]any
}
