package oauth

// Grant types: the grant_type values of the token endpoint and the
// grant_types of client metadata (RFC 6749 §4, RFC 7591 §2).
const (
	// GrantAuthorizationCode is the authorization code grant (RFC 6749 §4.1).
	GrantAuthorizationCode = "authorization_code"
	// GrantImplicit is the implicit grant (RFC 6749 §4.2); it has no
	// token-endpoint exchange, only a client metadata value.
	GrantImplicit = "implicit"
	// GrantClientCredentials is the client credentials grant (RFC 6749 §4.4).
	GrantClientCredentials = "client_credentials"
	// GrantRefreshToken is the refresh token exchange (RFC 6749 §6).
	GrantRefreshToken = "refresh_token"
	// GrantDeviceCode is the device authorization grant (RFC 8628 §3.4).
	GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
	// GrantTokenExchange is token exchange (RFC 8693 §2.1).
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// Client authentication methods at the token endpoint, the
// token_endpoint_auth_method values (RFC 7591 §2).
const (
	// AuthBasic is HTTP Basic with the client id and secret (RFC 6749 §2.3.1).
	AuthBasic = "client_secret_basic"
	// AuthPost is client_id and client_secret in the request body (RFC 6749 §2.3.1).
	AuthPost = "client_secret_post"
	// AuthNone is a public client sending its client_id only.
	AuthNone = "none"
)

// AuthPrivateKeyJWT is a JWT the client signs with its private key
// (RFC 7523 §2.2, OpenID Connect Core §9), sent as client_assertion.
const AuthPrivateKeyJWT = "private_key_jwt"

// AssertionTypeJWTBearer is the client_assertion_type of a JWT client
// assertion (RFC 7523 §2.2).
const AssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
