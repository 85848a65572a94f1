package authz

import (
	"context"
	"slices"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// Codes redeems the authorization codes /authorize issues (RFC 6749 §4.1.3).
type Codes interface {
	// Redeem consumes the code the client presents, once, and returns what
	// /authorize stored with it. An unknown or expired code is
	// invalid_grant; so is one already redeemed, which also revokes every
	// token issued from it (RFC 6749 §4.1.2), unless the exchange retries
	// the first within Config.RetryWindow (the same client, the same PKCE
	// verifier): the code's grant is then returned again, and the server
	// answers with the first exchange's tokens.
	Redeem(ctx context.Context, code string) (*storage.AuthCode, error)
}

// Families continues token families at a refresh (RFC 6749 §6).
type Families interface {
	// Continue checks a refresh token the client presents: live, issued to
	// the client, not used before (a used one revokes its family: RFC 9700
	// §4.14.2, unless the request retries its rotation within
	// Config.RetryWindow while the successor is unused: the server then
	// answers with that successor), its family, user and API still there. Every failure is
	// invalid_grant. The continuation is handed back in
	// Decision.Continuation once Policy.Redecide has decided what is left of
	// the grant.
	Continue(ctx context.Context, client *storage.Client, refreshToken string) (*Continuation, error)
}

// Directory reads the users and APIs a grant's decision names. A name that
// no longer resolves is invalid_grant.
type Directory interface {
	// User returns the user with the id.
	User(ctx context.Context, id string) (*storage.User, error)
	// API returns the API with the identifier.
	API(ctx context.Context, identifier string) (*storage.API, error)
}

// Policy is what the server decides for users, the same for every grant.
type Policy interface {
	// OfflineAccess reports whether a refresh token may be issued: scopes
	// hold offline_access, the client may use a grant that redeems refresh
	// tokens (Capabilities.RefreshTokens), and the API (nil: none) allows
	// offline access.
	OfflineAccess(c *storage.Client, api *storage.API, scopes []string) bool
	// Redecide decides again what is left of the grant a continuation
	// carries (RFC 9700 §4.14: a refresh token is no more than the grant
	// behind it): of the refresh token's scopes, what the user would be
	// offered now (the API still defines the scope, the user still holds
	// it under EnforceRBAC, offline_access is still allowed) and, where
	// consent applies, what the user's stored consent still covers;
	// consented reports that it applies, so that rules may not add a scope
	// outside kept (Decision.ConsentedScopes). A withdrawn consent is
	// invalid_grant. The continuation records kept as the scope of the
	// refresh token that replaces the presented one; the server rotates
	// only a continuation decided again.
	Redecide(ctx context.Context, c *storage.Client, cont *Continuation) (kept []string, consented bool, err error)
}

// Continuation is an existing token family being continued by a refresh
// (Families.Continue). It is opaque: the server's bookkeeping of the
// rotation (the presented token, the family's end, the next token's scope)
// stays inside, and a grant reads only what it decides on.
type Continuation struct {
	client, family, hash string
	// next is the refresh token that follows the presented one; retry
	// reports that the presented one was rotated to it already, within
	// the retry window: the server answers with next and writes nothing.
	next      string
	retry     bool
	familyExp time.Time
	user      *storage.User
	api       *storage.API
	scopes    []string
	authTime  time.Time
	claims    map[string]any
	// kept is the scope of the next refresh token, set by Redecide.
	kept      []string
	redecided bool
	// jkt is the DPoP key thumbprint the presented refresh token is
	// bound to (RFC 9449 §5); the next one is bound to it too.
	jkt string
}

// User is the user the family's tokens act for.
func (c *Continuation) User() *storage.User { return c.user }

// API is the API of the family's tokens; nil for a sign-in only.
func (c *Continuation) API() *storage.API { return c.api }

// Scopes are the scopes of the presented refresh token: what a refresh may
// ask for, at most.
func (c *Continuation) Scopes() []string { return slices.Clone(c.scopes) }

// AuthTime is when the user signed in.
func (c *Continuation) AuthTime() time.Time { return c.authTime }

// Claims are the custom claims decided at login and kept by the family.
func (c *Continuation) Claims() map[string]any { return c.claims }
