package authz

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// CreateClient validates and registers a client. An empty ID is generated.
// A confidential client of a secret method (client_secret_basic unless it
// names client_secret_post) gets a new secret of 256 bits of entropy: it is
// returned here, the only time it is ever shown, and stored as its SHA-256
// hash only. Public clients (method none) and private_key_jwt clients get
// no secret. The method must be enabled (Config.ClientAuthenticators).
//
// The secret is a random 256-bit value, not a password, so a fast hash is as
// strong as a slow one: no dictionary exists to attack it, and the token
// endpoint stays as cheap as the signature (see docs/ARCHITECTURE.md).
func (s *Server) CreateClient(ctx context.Context, c *storage.Client) (secret string, err error) {
	rec := *c
	if rec.ID == "" {
		rec.ID = token.Random(16)
	}
	if err := validateClient(&rec); err != nil {
		return "", err
	}
	switch {
	case rec.Public:
		rec.SecretHash = nil
		rec.AuthMethod = oauth.AuthNone
	case rec.AuthMethod == oauth.AuthPrivateKeyJWT:
		// Its keys are its credentials: it never gets a secret.
		rec.SecretHash = nil
	default:
		if rec.AuthMethod == "" {
			rec.AuthMethod = oauth.AuthBasic
		}
		secret = token.NewSecret()
		rec.SecretHash = token.SecretHash(secret)
	}
	if _, ok := s.clientAuth[rec.AuthMethod]; !ok {
		return "", fmt.Errorf("authz: token_endpoint_auth_method %q is not enabled on this server", rec.AuthMethod)
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.cfg.Now().UTC()
	}
	if err := s.store.Clients().Create(ctx, &rec); err != nil {
		return "", err
	}
	*c = rec
	return secret, nil
}

// RotateClientSecret replaces a confidential client's secret and returns the
// new one; the old one stops working at once. The secret is set on the
// client as stored at the time of the write (a compare-and-swap on its
// revision), so a concurrent change of the client is kept, and a concurrent
// write of a copy read before the rotation fails with storage.ErrConflict
// instead of restoring the old secret.
func (s *Server) RotateClientSecret(ctx context.Context, clientID string) (string, error) {
	var secret string
	err := revise(ctx, s.store.Clients(), clientID, nil, func(c *storage.Client) error {
		if c.Public {
			return fmt.Errorf("authz: client %q is public and has no secret", clientID)
		}
		if c.AuthMethod != "" && c.AuthMethod != oauth.AuthBasic && c.AuthMethod != oauth.AuthPost {
			return fmt.Errorf("authz: client %q authenticates with %s, not a secret", clientID, c.AuthMethod)
		}
		secret = token.NewSecret()
		c.SecretHash = token.SecretHash(secret)
		return nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// validateClient checks a client's metadata (RFC 7591 §2): CheckClient,
// failing with its first problem.
func validateClient(c *storage.Client) error {
	var first error
	CheckClient(c, func(_ string, err error) {
		if first == nil {
			first = err
		}
	})
	return first
}

// CheckClient validates a client's metadata the way CreateClient does
// (RFC 7591 §2; redirect URIs per RFC 8252 §7 and RFC 9700 §4.1), calling
// bad once per problem with the metadata field at fault ("client_id",
// "token_endpoint_auth_method", "jwks", "jwks_uri",
// "id_token_signed_response_alg", "redirect_uris[i]", "post_logout_redirect_uris[i]",
// "backchannel_logout_uri", "allowed_origins[i]", "dpop_bound_access_tokens")
// and the reason. It is the one implementation of these
// rules, for every path that writes a client.
func CheckClient(c *storage.Client, bad func(field string, err error)) {
	if !storage.ValidID(c.ID) {
		bad("client_id", fmt.Errorf("authz: client id %q must be printable UTF-8 of at most %d bytes", c.ID, storage.MaxIDBytes))
	}
	checkClientAuth(c, bad)
	checkClientDPoP(c, bad)
	if c.IDTokenSigningAlg != "" && !token.Supported(c.IDTokenSigningAlg) {
		bad("id_token_signed_response_alg", fmt.Errorf("authz: unsupported id_token_signed_response_alg %q: use one of %s", c.IDTokenSigningAlg, strings.Join(allAlgorithms, ", ")))
	}
	for i, u := range c.RedirectURIs {
		if err := checkRegisteredRedirectURI(u, c.Public); err != nil {
			bad(fmt.Sprintf("redirect_uris[%d]", i), err)
		}
	}
	for i, u := range c.PostLogoutRedirectURIs {
		if err := checkRegisteredRedirectURI(u, c.Public); err != nil {
			bad(fmt.Sprintf("post_logout_redirect_uris[%d]", i), err)
		}
	}
	if c.BackchannelLogoutURI != "" {
		if err := checkBackchannelURI(c.BackchannelLogoutURI); err != nil {
			bad("backchannel_logout_uri", err)
		}
	}
	for i, o := range c.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			bad(fmt.Sprintf("allowed_origins[%d]", i), err)
		}
	}
	if c.RequirePushedAuthorizationRequests && len(c.RedirectURIs) == 0 {
		bad("require_pushed_authorization_requests", errors.New("authz: a client that must push authorization requests needs a redirect URI"))
	}
	if c.InitiateLoginURI != "" {
		if err := checkInitiateLoginURI(c.InitiateLoginURI); err != nil {
			bad("initiate_login_uri", err)
		}
	}
}

// checkClientID refuses a presented client id that is empty or no valid
// identifier (storage.ValidID) before any lookup, so that an id a driver
// would rewrite (invalid UTF-8 becomes U+FFFD) never finds another client.
func checkClientID(id, method string) error {
	if id == "" {
		return oauth.ErrInvalidClient.WithDescription("client authentication is required")
	}
	if !storage.ValidID(id) {
		e := oauth.ErrInvalidClient.WithDescription("malformed client_id")
		e.Basic = method == oauth.AuthBasic
		return e
	}
	return nil
}

// checkSubject keeps user and machine subjects disjoint at every issuance:
// a user's subject is its id, a valid user id that never ends with
// storage.MachineSubjectSuffix; a subject that ends with it is a machine
// subject, issued only without a user and only to that client itself.
func checkSubject(c *storage.Client, d *Decision) error {
	if d.User != nil && (d.Subject != d.User.ID || !storage.ValidUserID(d.User.ID)) {
		return oauth.ErrInvalidGrant.WithDescription("the user id is not a valid subject")
	}
	if strings.HasSuffix(d.Subject, storage.MachineSubjectSuffix) && (d.User != nil || d.Subject != storage.MachineSubject(c.ID)) && !exchangedSubject(d) {
		return oauth.ErrInvalidGrant.WithDescription("a machine subject is only issued to its own client")
	}
	return nil
}

// clientAuthMethods are the token_endpoint_auth_method values a client may
// register: the built-ins, and the other methods of the IANA registry
// (RFC 7591 §2, RFC 8705 §2) that a Config.ClientAuthenticators entry can
// provide.
var clientAuthMethods = []string{
	oauth.AuthBasic, oauth.AuthPost, oauth.AuthPrivateKeyJWT, oauth.AuthNone,
	"client_secret_jwt", "tls_client_auth", "self_signed_tls_client_auth",
}

// checkClientAuth checks the authentication method and its keys: none for
// public clients only; private_key_jwt for confidential clients only, with
// exactly one of jwks (public signing keys, token.ParsePublicJWKS) and
// jwks_uri (https); keys for no other method.
func checkClientAuth(c *storage.Client, bad func(field string, err error)) {
	m := c.AuthMethod
	switch {
	case m != "" && !slices.Contains(clientAuthMethods, m):
		bad("token_endpoint_auth_method", fmt.Errorf("authz: unsupported token_endpoint_auth_method %q", m))
	case m == oauth.AuthNone && !c.Public:
		bad("token_endpoint_auth_method", fmt.Errorf("authz: confidential client %q cannot use auth method none", c.ID))
	case m != "" && m != oauth.AuthNone && c.Public:
		bad("token_endpoint_auth_method", fmt.Errorf("authz: public client %q can only use auth method none", c.ID))
	}
	hasKeys := len(c.JWKS) > 0 || c.JWKSURI != ""
	switch {
	case m == oauth.AuthPrivateKeyJWT && len(c.JWKS) > 0 && c.JWKSURI != "":
		bad("jwks", errors.New("authz: jwks and jwks_uri must not both be set (RFC 7591 §2)"))
	case m == oauth.AuthPrivateKeyJWT && !hasKeys:
		bad("jwks", errors.New("authz: private_key_jwt needs jwks or jwks_uri"))
	case m != oauth.AuthPrivateKeyJWT && hasKeys:
		bad("jwks", fmt.Errorf("authz: jwks and jwks_uri are only used by private_key_jwt, not %q", m))
	}
	if len(c.JWKS) > 0 {
		if _, err := token.ParsePublicJWKS(c.JWKS); err != nil {
			bad("jwks", err)
		}
	}
	if c.JWKSURI != "" {
		if err := checkJWKSURI(c.JWKSURI); err != nil {
			bad("jwks_uri", err)
		}
	}
}
