package authz

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// CreateClient validates and registers a client. An empty ID is generated.
// A confidential client gets a new secret of 256 bits of entropy: it is
// returned here, the only time it is ever shown, and stored as its SHA-256
// hash only. Public clients get no secret.
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
	if !rec.Public {
		secret = token.NewSecret()
		rec.SecretHash = token.SecretHash(secret)
	} else {
		rec.SecretHash = nil
		rec.AuthMethod = AuthNone
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
		secret = token.NewSecret()
		c.SecretHash = token.SecretHash(secret)
		return nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// validateClient checks a client's metadata (RFC 7591 §2).
func validateClient(c *storage.Client) error {
	if !validID(c.ID) {
		return fmt.Errorf("authz: client id %q holds a control character or is too long", c.ID)
	}
	switch c.AuthMethod {
	case "", AuthBasic, AuthPost:
	case AuthNone:
		if !c.Public {
			return fmt.Errorf("authz: confidential client %q cannot use auth method none", c.ID)
		}
	default:
		return fmt.Errorf("authz: unsupported token_endpoint_auth_method %q", c.AuthMethod)
	}
	if c.IDTokenSigningAlg != "" && !token.Supported(c.IDTokenSigningAlg) {
		return fmt.Errorf("authz: unsupported id_token_signed_response_alg %q: use one of %s", c.IDTokenSigningAlg, strings.Join(allAlgorithms, ", "))
	}
	for _, u := range c.RedirectURIs {
		p, err := url.Parse(u)
		if err != nil || !p.IsAbs() || p.Fragment != "" || p.Host == "" && p.Scheme != "" && p.Opaque == "" {
			return fmt.Errorf("authz: redirect URI %q must be absolute without fragment (RFC 6749 §3.1.2)", u)
		}
	}
	return nil
}

// validID accepts identifiers of printable characters without the storage key
// separator, at most 256 bytes.
func validID(id string) bool {
	if id == "" || len(id) > 256 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] == 0x7f {
			return false
		}
	}
	return true
}
