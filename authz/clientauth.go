package authz

import (
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// ClientAuthenticator is one client authentication method (RFC 6749
// §2.3, RFC 7591 §2 token_endpoint_auth_method), registered in
// Config.ClientAuthenticators under its method name. Every endpoint that
// authenticates clients (token, introspection, revocation) runs the
// authenticator of the method the client registered, and only that one: a
// client registered for private_key_jwt cannot authenticate with a secret,
// nor a secret client with an assertion.
type ClientAuthenticator interface {
	// Authenticate checks the credentials of r against r.Client. Any error
	// fails the request; return an *oauth.Error (invalid_client) to choose
	// the answer, a storage error for an outage.
	Authenticate(ctx context.Context, r *ClientAuthRequest) error
}

// ClientAuthRequest is what a ClientAuthenticator checks.
type ClientAuthRequest struct {
	// Client is the registered client the credentials claim to be; never nil.
	Client *storage.Client
	// Method is how the credentials were presented on the wire:
	// oauth.AuthBasic (Authorization header), oauth.AuthPost (client_secret
	// in the body), oauth.AuthPrivateKeyJWT (client_assertion) or
	// oauth.AuthNone (a client_id alone).
	Method string
	// Secret is the presented client secret, for the secret methods.
	Secret string
	// Assertion is the presented client_assertion, whose
	// client_assertion_type was the JWT bearer type (RFC 7523 §2.2).
	Assertion string
	// Params are every parameter of the request.
	Params url.Values
	// Now is the server clock's time of the request.
	Now time.Time
}

// secretAuth is client_secret_basic or client_secret_post: the secret,
// presented the registered way, matches the stored SHA-256 hash (compared
// in constant time).
type secretAuth struct{ method string }

// Authenticate implements ClientAuthenticator.
func (a secretAuth) Authenticate(_ context.Context, r *ClientAuthRequest) error {
	if r.Client.Public || r.Method != a.method || !token.CheckSecret(r.Client.SecretHash, r.Secret) {
		return errClientAuth(r.Method)
	}
	return nil
}

// publicAuth is none: a public client that presented nothing but its id.
type publicAuth struct{}

// Authenticate implements ClientAuthenticator.
func (publicAuth) Authenticate(_ context.Context, r *ClientAuthRequest) error {
	if !r.Client.Public || r.Method != oauth.AuthNone {
		return errClientAuth(r.Method)
	}
	return nil
}

// errClientAuth is the one answer to failed client authentication
// (RFC 6749 §5.2), with a Basic challenge for Basic credentials.
func errClientAuth(presented string) *oauth.Error {
	e := oauth.ErrInvalidClient.WithDescription("client authentication failed")
	e.Basic = presented == oauth.AuthBasic
	return e
}

// clientAuthenticators are the built-in methods overlaid with
// Config.ClientAuthenticators (a nil entry disables a method).
func (s *Server) clientAuthenticators() map[string]ClientAuthenticator {
	m := map[string]ClientAuthenticator{
		oauth.AuthBasic:         secretAuth{oauth.AuthBasic},
		oauth.AuthPost:          secretAuth{oauth.AuthPost},
		oauth.AuthNone:          publicAuth{},
		oauth.AuthPrivateKeyJWT: assertionAuth{s},
	}
	for name, a := range s.cfg.ClientAuthenticators {
		if a == nil {
			delete(m, name)
		} else {
			m[name] = a
		}
	}
	return m
}

// ClientAuthMethods returns the enabled client authentication methods,
// sorted.
func (s *Server) ClientAuthMethods() []string {
	out := make([]string, 0, len(s.clientAuth))
	for name := range s.clientAuth {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// registeredMethod is the method a client authenticates with: the one it
// registered; for a record stored without one, none for a public client,
// and for a confidential one whichever secret method it presented.
func registeredMethod(c *storage.Client, presented string) string {
	switch {
	case c.AuthMethod != "":
		return c.AuthMethod
	case c.Public:
		return oauth.AuthNone
	case presented == oauth.AuthBasic || presented == oauth.AuthPost:
		return presented
	}
	return oauth.AuthBasic
}

// unknownClientHash is compared against when the client does not exist.
var unknownClientHash = token.SecretHash(token.NewSecret())

// authenticateClient is the client authentication step of every endpoint
// that has one (token, introspection, revocation): c is the stored client
// of req.ClientID (nil when unknown), and the authenticator of the method
// c registered checks the credentials of req.
func (s *Server) authenticateClient(ctx context.Context, c *storage.Client, req *TokenRequest) error {
	if c == nil {
		// Hash anyway, so the time of the answer does not tell an unknown
		// client id from a wrong secret.
		token.CheckSecret(unknownClientHash, req.ClientSecret)
		return errClientAuth(req.AuthMethod)
	}
	a, ok := s.clientAuth[registeredMethod(c, req.AuthMethod)]
	if !ok {
		return errClientAuth(req.AuthMethod)
	}
	return a.Authenticate(ctx, &ClientAuthRequest{
		Client: c, Method: req.AuthMethod, Secret: req.ClientSecret,
		Assertion: req.ClientAssertion, Params: req.Params, Now: s.cfg.Now(),
	})
}

// readAssertion reads a client_assertion (RFC 7521 §4.2, RFC 7523 §2.2):
// the client is the assertion's sub, which a client_id sent with it must
// equal. The assertion is only bounded and peeked at here; its
// authenticator verifies it.
func readAssertion(form url.Values, req *TokenRequest) error {
	typ, raw := form.Get("client_assertion_type"), form.Get("client_assertion")
	if typ == "" || raw == "" {
		return oauth.ErrInvalidRequest.WithDescription("client_assertion and client_assertion_type go together")
	}
	if typ != oauth.AssertionTypeJWTBearer {
		return oauth.ErrInvalidClient.WithDescription("unsupported client_assertion_type")
	}
	sub, err := token.UnverifiedSubject(raw, token.DefaultAssertionMaxSize)
	if err != nil {
		return oauth.ErrInvalidClient.WithDescription("malformed client_assertion")
	}
	if id := form.Get("client_id"); id != "" && id != sub {
		return oauth.ErrInvalidClient.WithDescription("client_id is not the client_assertion's sub")
	}
	req.ClientID, req.ClientAssertion, req.AuthMethod = sub, raw, oauth.AuthPrivateKeyJWT
	return nil
}
