package storage

import (
	"encoding/json"
	"math/rand/v2"
	"time"
)

// Record is implemented by every long-lived record: its Key is unique within
// a tenant and collection. Composite keys join their parts with KeySep so that
// a prefix lists every record of the first part (for example every consent of
// one user).
type Record interface {
	// Key is the record's unique key within its tenant and collection.
	Key() string
	// Rev is the record's revision (see Revisioned).
	Rev() int64
	// SetRev sets the record's revision; drivers call it on every write.
	SetRev(rev int64)
}

// Revisioned carries the revision of a long-lived record, for optimistic
// concurrency (compare-and-swap updates). Create gives a record its first
// revision and every Update a new one, written back into the caller's
// record; Update succeeds only while the record's Revision is the stored
// one, and fails with ErrConflict when another write came first. A revision
// is an opaque number in [1, 2^53), drawn at random (NewRevision), so that a
// key deleted and created again does not repeat a revision a stale copy
// could hold. Zero means never stored (or stored before records had
// revisions, which Update treats as revision zero).
type Revisioned struct {
	// Revision is the stored revision the record was read at.
	Revision int64 `json:"revision" bson:"revision"`
}

// Rev implements Record.
func (r *Revisioned) Rev() int64 { return r.Revision }

// SetRev implements Record.
func (r *Revisioned) SetRev(rev int64) { r.Revision = rev }

// NewRevision returns a fresh revision for a write: random in [1, 2^53), so
// that it is exact as a JSON number and in the Lua of a Redis script.
func NewRevision() int64 { return rand.Int64N(1<<53-1) + 1 }

// KeySep separates the parts of a composite key. It cannot occur in a client
// id, user id or API identifier accepted by the issuer.
const KeySep = "\x1f"

// JoinKey builds a composite key from its parts.
func JoinKey(parts ...string) string {
	n := len(parts) - 1
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, KeySep...)
		}
		b = append(b, p...)
	}
	return string(b)
}

// Scope is one permission an API defines.
type Scope struct {
	// Name is the scope value, as in the "scope" claim.
	Name string `json:"name" bson:"name"`
	// Description explains the scope on the consent page.
	Description string `json:"description,omitempty" bson:"description,omitempty"`
}

// API is a resource server. Its Identifier is the "aud" of the access tokens
// issued for it (RFC 9068 §3, RFC 8707).
type API struct {
	// Revisioned is the stored revision (optimistic concurrency).
	Revisioned `bson:",inline"`

	// Identifier is the API's unique id and the "aud" of its tokens.
	Identifier string `json:"identifier" bson:"identifier"`
	// Name is shown on consent pages and in management.
	Name string `json:"name" bson:"name"`
	// Scopes are the permissions the API defines.
	Scopes []Scope `json:"scopes,omitempty" bson:"scopes,omitempty"`
	// TokenLifetime is the access-token lifetime; zero means the server default.
	TokenLifetime time.Duration `json:"token_lifetime,omitempty" bson:"token_lifetime,omitempty"`
	// SigningAlg is the JWS algorithm of its access tokens; empty means RS256.
	SigningAlg string `json:"signing_alg,omitempty" bson:"signing_alg,omitempty"`
	// TokenFormat is the format of its access tokens: TokenFormatJWT (the
	// default, also empty) or TokenFormatOpaque, a random reference the
	// issuer stores and resolves by introspection (docs/OPAQUE.md).
	TokenFormat string `json:"token_format,omitempty" bson:"token_format,omitempty"`
	// EnforceRBAC limits user-facing grants to the user's effective permissions.
	EnforceRBAC bool `json:"enforce_rbac,omitempty" bson:"enforce_rbac,omitempty"`
	// AddPermissionsClaim adds a "permissions" array to access tokens.
	AddPermissionsClaim bool `json:"add_permissions_claim,omitempty" bson:"add_permissions_claim,omitempty"`
	// AllowSkipConsent lets first-party clients skip the consent page.
	AllowSkipConsent bool `json:"allow_skip_consent,omitempty" bson:"allow_skip_consent,omitempty"`
	// AllowOfflineAccess lets refresh tokens be issued for this API.
	AllowOfflineAccess bool `json:"allow_offline_access,omitempty" bson:"allow_offline_access,omitempty"`
	// RequireDPoP refuses token requests for this API without a DPoP
	// proof (RFC 9449): its access tokens are all sender-constrained.
	RequireDPoP bool `json:"require_dpop,omitempty" bson:"require_dpop,omitempty"`
	// Managed marks an API the server defines itself (the management API).
	Managed bool `json:"managed,omitempty" bson:"managed,omitempty"`
	// TokenExchange is what the API accepts at the token-exchange grant;
	// nil accepts no exchange.
	TokenExchange *ExchangePolicy `json:"token_exchange,omitempty" bson:"token_exchange,omitempty"`
}

// Key implements Record.
func (a *API) Key() string { return a.Identifier }

// HasScope reports whether the API defines the named scope.
func (a *API) HasScope(name string) bool {
	for i := range a.Scopes {
		if a.Scopes[i].Name == name {
			return true
		}
	}
	return false
}

// Client is a registered application (RFC 6749 §2, RFC 7591 metadata names).
type Client struct {
	// Revisioned is the stored revision (optimistic concurrency).
	Revisioned `bson:",inline"`

	// ID is the client_id.
	ID string `json:"client_id" bson:"client_id"`
	// Name is shown on consent pages.
	Name string `json:"client_name" bson:"client_name"`
	// SecretHash is the SHA-256 of the client secret; empty for public clients.
	SecretHash []byte `json:"secret_hash,omitempty" bson:"secret_hash,omitempty"`
	// Public marks a client that cannot keep a secret (RFC 6749 §2.1).
	Public bool `json:"public,omitempty" bson:"public,omitempty"`
	// FirstParty marks an application of the same owner as the APIs.
	FirstParty bool `json:"first_party,omitempty" bson:"first_party,omitempty"`
	// RedirectURIs are compared exactly (RFC 9700 §4.1.3).
	RedirectURIs []string `json:"redirect_uris,omitempty" bson:"redirect_uris,omitempty"`
	// PostLogoutRedirectURIs are where RP-initiated logout may send the
	// browser back to, compared exactly (OIDC RP-Initiated Logout 1.0 §3).
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty" bson:"post_logout_redirect_uris,omitempty"`
	// BackchannelLogoutURI receives the client's logout tokens when an OP
	// session it took part in ends (OIDC Back-Channel Logout 1.0 §2.2):
	// https.
	BackchannelLogoutURI string `json:"backchannel_logout_uri,omitempty" bson:"backchannel_logout_uri,omitempty"`
	// RevokeOnLogout revokes the token families an OP session produced for
	// the client when the session ends (logout, EndUserSessions), so that
	// its refresh tokens stop working with the sign-in.
	RevokeOnLogout bool `json:"revoke_on_logout,omitempty" bson:"revoke_on_logout,omitempty"`
	// GrantTypes lists the grant_type values the client may use.
	GrantTypes []string `json:"grant_types,omitempty" bson:"grant_types,omitempty"`
	// ResponseTypes lists the response_type values the client may use at
	// /authorize; empty means "code" only.
	ResponseTypes []string `json:"response_types,omitempty" bson:"response_types,omitempty"`
	// AuthMethod is the one client authentication method the client uses at
	// the token, introspection and revocation endpoints (RFC 7591 §2
	// token_endpoint_auth_method): client_secret_basic, client_secret_post,
	// private_key_jwt or none. Registration sets it (client_secret_basic
	// for a confidential client, none for a public one); a record stored
	// empty by an earlier version accepts either secret method.
	AuthMethod string `json:"token_endpoint_auth_method,omitempty" bson:"token_endpoint_auth_method,omitempty"`
	// JWKS is the client's public JWK Set (RFC 7517 §5) for private_key_jwt,
	// inline: public signing keys only, each with kid and alg. At most one
	// of JWKS and JWKSURI is set (RFC 7591 §2).
	JWKS json.RawMessage `json:"jwks,omitempty" bson:"jwks,omitempty"`
	// JWKSURI is the https URL of the client's public JWK Set for
	// private_key_jwt, fetched and cached by the server.
	JWKSURI string `json:"jwks_uri,omitempty" bson:"jwks_uri,omitempty"`
	// IDTokenSigningAlg is the JWS algorithm of ID tokens; empty means RS256.
	IDTokenSigningAlg string `json:"id_token_signed_response_alg,omitempty" bson:"id_token_signed_response_alg,omitempty"`
	// IntrospectAudiences are the APIs this client serves as a resource
	// server: it may introspect (RFC 7662 §4) access tokens issued for them
	// to any client. Otherwise a client learns only about its own tokens.
	IntrospectAudiences []string `json:"introspect_audiences,omitempty" bson:"introspect_audiences,omitempty"`
	// AllowedOrigins are the web origins (scheme://host[:port]) whose
	// pages may call the token, revocation and userinfo endpoints for this
	// client from a browser (CORS), compared exactly.
	AllowedOrigins []string `json:"allowed_origins,omitempty" bson:"allowed_origins,omitempty"`
	// RequirePushedAuthorizationRequests makes /authorize accept this
	// client's requests only through a request_uri of the pushed
	// authorization request endpoint (RFC 9126 §6
	// require_pushed_authorization_requests).
	RequirePushedAuthorizationRequests bool `json:"require_pushed_authorization_requests,omitempty" bson:"require_pushed_authorization_requests,omitempty"`
	// InitiateLoginURI is the https URL where the client starts a sign-in
	// (OIDC Registration §2 initiate_login_uri): the issuer's error page
	// for an expired or unknown authorization request links to it, so the
	// user can start again.
	InitiateLoginURI string `json:"initiate_login_uri,omitempty" bson:"initiate_login_uri,omitempty"`
	// RequireDPoP refuses the client's token requests without a DPoP proof
	// (RFC 9449 §5.2 dpop_bound_access_tokens): all its access tokens are
	// sender-constrained.
	RequireDPoP bool `json:"dpop_bound_access_tokens,omitempty" bson:"dpop_bound_access_tokens,omitempty"`
	// CreatedAt is when the client was registered.
	CreatedAt time.Time `json:"created_at,omitempty" bson:"created_at,omitempty"`
}

// Key implements Record.
func (c *Client) Key() string { return c.ID }

// ClientGrant authorizes a client to receive scopes of an API without a user
// (client credentials).
type ClientGrant struct {
	// Revisioned is the stored revision (optimistic concurrency).
	Revisioned `bson:",inline"`

	// ClientID is the machine client.
	ClientID string `json:"client_id" bson:"client_id"`
	// Audience is the API's Identifier.
	Audience string `json:"audience" bson:"audience"`
	// Scopes are the API's scopes the client may receive.
	Scopes []string `json:"scope" bson:"scope"`
}

// Key implements Record: client, then audience.
func (g *ClientGrant) Key() string { return JoinKey(g.ClientID, g.Audience) }

// Address is the OIDC address claim (OIDC Core §5.1.1).
type Address struct {
	// Formatted is the full address for display.
	Formatted string `json:"formatted,omitempty" bson:"formatted,omitempty"`
	// StreetAddress is the street part.
	StreetAddress string `json:"street_address,omitempty" bson:"street_address,omitempty"`
	// Locality is the city.
	Locality string `json:"locality,omitempty" bson:"locality,omitempty"`
	// Region is the state, province or region.
	Region string `json:"region,omitempty" bson:"region,omitempty"`
	// PostalCode is the postal code.
	PostalCode string `json:"postal_code,omitempty" bson:"postal_code,omitempty"`
	// Country is the country name.
	Country string `json:"country,omitempty" bson:"country,omitempty"`
}

// User is a person known to the issuer. scopekit never stores passwords: the
// host application authenticates users (see authz.Login).
type User struct {
	// Revisioned is the stored revision (optimistic concurrency).
	Revisioned `bson:",inline"`

	// ID is the user id, the "sub" of the user's tokens.
	ID string `json:"user_id" bson:"user_id"`
	// Name is the full name (OIDC standard claims follow, OIDC Core §5.1).
	Name string `json:"name,omitempty" bson:"name,omitempty"`
	// GivenName is the given name.
	GivenName string `json:"given_name,omitempty" bson:"given_name,omitempty"`
	// FamilyName is the surname.
	FamilyName string `json:"family_name,omitempty" bson:"family_name,omitempty"`
	// MiddleName is the middle name.
	MiddleName string `json:"middle_name,omitempty" bson:"middle_name,omitempty"`
	// Nickname is a casual name.
	Nickname string `json:"nickname,omitempty" bson:"nickname,omitempty"`
	// PreferredUsername is the name the user wants to be known by.
	PreferredUsername string `json:"preferred_username,omitempty" bson:"preferred_username,omitempty"`
	// Profile is the URL of the user's profile page.
	Profile string `json:"profile,omitempty" bson:"profile,omitempty"`
	// Picture is the URL of the user's picture.
	Picture string `json:"picture,omitempty" bson:"picture,omitempty"`
	// Website is the URL of the user's web site.
	Website string `json:"website,omitempty" bson:"website,omitempty"`
	// Email is the e-mail address.
	Email string `json:"email,omitempty" bson:"email,omitempty"`
	// EmailVerified says the e-mail address was verified.
	EmailVerified bool `json:"email_verified,omitempty" bson:"email_verified,omitempty"`
	// Gender is the gender.
	Gender string `json:"gender,omitempty" bson:"gender,omitempty"`
	// Birthdate is the birthday, YYYY-MM-DD or YYYY.
	Birthdate string `json:"birthdate,omitempty" bson:"birthdate,omitempty"`
	// Zoneinfo is the time zone, e.g. Europe/Paris.
	Zoneinfo string `json:"zoneinfo,omitempty" bson:"zoneinfo,omitempty"`
	// Locale is the BCP 47 locale, e.g. fr-CA.
	Locale string `json:"locale,omitempty" bson:"locale,omitempty"`
	// PhoneNumber is the phone number, preferably E.164.
	PhoneNumber string `json:"phone_number,omitempty" bson:"phone_number,omitempty"`
	// PhoneNumberVerified says the phone number was verified.
	PhoneNumberVerified bool `json:"phone_number_verified,omitempty" bson:"phone_number_verified,omitempty"`
	// Address is the postal address.
	Address *Address `json:"address,omitempty" bson:"address,omitempty"`
	// UpdatedAt is when the profile last changed.
	UpdatedAt time.Time `json:"updated_at,omitempty" bson:"updated_at,omitempty"`
	// UserMetadata is data the user may edit (preferences).
	UserMetadata map[string]any `json:"user_metadata,omitempty" bson:"user_metadata,omitempty"`
	// AppMetadata is data only the application sets (plan, flags).
	AppMetadata map[string]any `json:"app_metadata,omitempty" bson:"app_metadata,omitempty"`
	// Roles are the ids of roles assigned to the user directly.
	Roles []string `json:"roles,omitempty" bson:"roles,omitempty"`
	// Groups are the ids of the groups the user belongs to.
	Groups []string `json:"groups,omitempty" bson:"groups,omitempty"`
}

// Key implements Record.
func (u *User) Key() string { return u.ID }

// Permission is one scope of one API.
type Permission struct {
	// Audience is the API's Identifier.
	Audience string `json:"resource_server_identifier" bson:"audience"`
	// Scope is one of the API's scopes.
	Scope string `json:"permission_name" bson:"scope"`
}

// Role is a named set of permissions.
type Role struct {
	// Revisioned is the stored revision (optimistic concurrency).
	Revisioned `bson:",inline"`

	// ID is the role id.
	ID string `json:"id" bson:"id"`
	// Name is the role's display name.
	Name string `json:"name" bson:"name"`
	// Description says what the role is for.
	Description string `json:"description,omitempty" bson:"description,omitempty"`
	// Permissions are what the role grants.
	Permissions []Permission `json:"permissions,omitempty" bson:"permissions,omitempty"`
}

// Key implements Record.
func (r *Role) Key() string { return r.ID }

// Group is a set of users that share roles. Membership is recorded on the
// user (User.Groups).
type Group struct {
	// Revisioned is the stored revision (optimistic concurrency).
	Revisioned `bson:",inline"`

	// ID is the group id.
	ID string `json:"id" bson:"id"`
	// Name is the group's display name.
	Name string `json:"name" bson:"name"`
	// Description says what the group is for.
	Description string `json:"description,omitempty" bson:"description,omitempty"`
	// Roles are the ids of the roles every member has.
	Roles []string `json:"roles,omitempty" bson:"roles,omitempty"`
}

// Key implements Record.
func (g *Group) Key() string { return g.ID }

// Consent records the scopes a user granted a client for an API.
type Consent struct {
	// Revisioned is the stored revision (optimistic concurrency).
	Revisioned `bson:",inline"`

	// UserID is the user who consented.
	UserID string `json:"user_id" bson:"user_id"`
	// ClientID is the client consented to.
	ClientID string `json:"client_id" bson:"client_id"`
	// Audience is the API's Identifier.
	Audience string `json:"audience" bson:"audience"`
	// Scopes are the scopes granted.
	Scopes []string `json:"scope" bson:"scope"`
	// GrantedAt is when the consent was last given.
	GrantedAt time.Time `json:"granted_at" bson:"granted_at"`
}

// Key implements Record: user, then client, then audience, so that a prefix
// of JoinKey(user, "") lists one user's consents.
func (c *Consent) Key() string { return JoinKey(c.UserID, c.ClientID, c.Audience) }

// SigningKey is a private signing key of the issuer, serialised as a JWK.
type SigningKey struct {
	// Revisioned is the stored revision (optimistic concurrency).
	Revisioned `bson:",inline"`

	// ID is the key id, the "kid" of the JWS header.
	ID string `json:"kid" bson:"kid"`
	// Alg is the key's JWS algorithm (RS256, PS256, ES256, EdDSA).
	Alg string `json:"alg" bson:"alg"`
	// JWK is the private key as JSON Web Key (RFC 7517).
	JWK []byte `json:"jwk" bson:"jwk"`
	// CreatedAt orders keys: the newest active key of an algorithm signs.
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
	// RetiredAt, when set, stops the key signing; it is still published in
	// the JWKS until no token it signed can be valid.
	RetiredAt time.Time `json:"retired_at,omitempty" bson:"retired_at,omitempty"`
	// SignsFrom, when set, is the instant the key may start signing: until
	// then it is only published, so that every verifier can learn it first.
	SignsFrom time.Time `json:"signs_from,omitempty" bson:"signs_from,omitempty"`
}

// Key implements Record.
func (k *SigningKey) Key() string { return k.ID }

// ValidKey reports whether a record key is usable: not empty, at most
// MaxKeyBytes long, and no part of a composite key empty.
func ValidKey(key string) bool {
	if key == "" || len(key) > MaxKeyBytes {
		return false
	}
	start := 0
	for i := 0; i <= len(key)-len(KeySep); i++ {
		if key[i:i+len(KeySep)] == KeySep {
			if i == start {
				return false
			}
			start = i + len(KeySep)
		}
	}
	return start < len(key)
}
