package authz

import (
	"context"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// Grant runs one grant type at the token endpoint (RFC 6749 §4). Grants are
// registered in Config.Grants, like handlers on a ServeMux; package grant
// holds the standard ones. A grant decides; only the Server mints, signs and
// persists, so rules and storage have one choke point. What the server must
// know about a grant beyond its type it learns from the grant's
// Capabilities, never from its name.
type Grant interface {
	// GrantType is the grant_type value the grant answers, e.g.
	// "client_credentials".
	GrantType() string
	// Decide checks the request of an authenticated client and returns what
	// to issue, or an *oauth.Error.
	Decide(ctx context.Context, x *Exchange) (*Decision, error)
}

// Capabilities are what a grant does that the rest of the server depends
// on. A grant declares them by implementing Capable; a grant that does not
// has none.
type Capabilities struct {
	// AuthorizationEndpoint: the grant redeems the codes /authorize issues
	// (Exchange.Codes). Registering one enables response_type=code.
	AuthorizationEndpoint bool
	// RefreshTokens: the grant redeems refresh tokens (Exchange.Families).
	// offline_access is offered (at /authorize, in discovery) only when
	// one runs, and granted only to a client allowed to use one.
	RefreshTokens bool
	// ClientTokens: the grant issues a client tokens in its own name from
	// its credentials alone (RFC 6749 §4.4). Server.Explain explains a
	// client's issuance with it.
	ClientTokens bool
	// DeviceAuthorization: the grant redeems the device codes of the
	// device authorization endpoint (RFC 8628; Exchange.Devices).
	// Registering one enables /oauth/device/code and, with Config.Login,
	// the verification page /device.
	DeviceAuthorization bool
}

// Capable is implemented by a grant that declares Capabilities. New reads
// them once.
type Capable interface {
	Capabilities() Capabilities
}

// Exchange is what the Server hands a Grant: the parsed request, the
// authenticated client, what the directory holds for the requested audience,
// and the typed services a grant may use. No grant reaches the Server
// itself.
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
	// Codes redeems the authorization codes /authorize issued.
	Codes Codes
	// Families continues the token families of refresh tokens.
	Families Families
	// Devices redeems the device codes the device authorization endpoint
	// issued.
	Devices Devices
	// Directory reads the users and APIs a decision names.
	Directory Directory
	// Policy is what the server decides for users: offline access, and
	// what is left of a grant at a refresh.
	Policy Policy
	// Subjects verifies the subject and actor tokens of a token exchange.
	Subjects Subjects
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
	// TriggerTokenExchange is a token exchange (RFC 8693): the
	// transaction's SubjectToken (and ActorToken) say what was presented.
	TriggerTokenExchange Trigger = "token_exchange"
)

// Decision is a grant's verdict: who the token is for and what it may do.
// The server runs the rules on it, unless the grant redeemed a code
// (Codes.Redeem) whose rules ran at /authorize, then signs and stores what
// it describes.
type Decision struct {
	// Trigger is the cause of the issuance, as rules see it.
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
	// Family is the token family the tokens of a user decision join
	// (storage.Family): the access token's jti carries it so that revoking
	// the family revokes the token. A code's family is chosen at /authorize
	// (a replay of the code revokes it); empty lets the server create a new
	// family for a user decision. Ignored with Continuation, which names its
	// own. Client-credentials tokens have none.
	Family string
	// Continuation, from Families.Continue, continues an existing family:
	// the server rotates the refresh token it was obtained for atomically
	// as it issues the new one, within the family's lifetime.
	Continuation *Continuation
	// AuthTime is when the user authenticated (OIDC Core §2).
	AuthTime time.Time
	// Nonce is the authorization request's nonce, echoed in the ID token.
	Nonce string
	// IssueRefresh allows a refresh token (Policy.OfflineAccess). A
	// Continuation requires it: the rotation issues the next token.
	IssueRefresh bool
	// AccessClaims are custom access-token claims decided by rules.
	AccessClaims map[string]any
	// Claims are custom claims decided at login and kept for the family
	// (custom ID-token claims returned by /userinfo).
	Claims map[string]any
	// Exchanged is the verified subject token of a token exchange
	// (Subjects.Verify), and Actor its actor token, nil for impersonation.
	// The issued token keeps the subject (a machine subject included), joins
	// the subject token's family, never outlives it, and carries the "act"
	// claim of RFC 8693 §4.1 built from Actor. No refresh token is issued.
	Exchanged, Actor *SubjectToken

	// code is the code the exchange redeemed (Codes.Redeem), set by the
	// server: the family's first refresh token is derived from it, so that
	// a retry of the exchange gets the same one.
	code string
	// jkt is the thumbprint of the request's DPoP key, set by the server:
	// the access token is bound to it (RFC 9449 §6).
	jkt string
}
