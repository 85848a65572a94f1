package authz

import (
	"net/url"
	"strconv"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// The bounds of an authorization request (docs/LIMITS.md). Each check is
// linear in the size of what it reads, and all of them run before anything
// is stored.

// parseScope is oauth.ParseScopeBounded with the server's bounds (Config.MaxScopes,
// Config.MaxScopeLength).
func (s *Server) parseScope(v string) ([]string, error) {
	return oauth.ParseScopeBounded(v, s.cfg.MaxScopes, s.cfg.MaxScopeLength)
}

// checkParamCount refuses an authorization request with more than
// Config.MaxParams parameters.
func (s *Server) checkParamCount(p url.Values) error {
	if len(p) > s.cfg.MaxParams {
		return oauth.ErrInvalidRequest.WithDescription("too many parameters")
	}
	return nil
}

// checkParamSizes refuses an authorization request parameter whose name or
// value breaks its bound: Config.MaxStateBytes for state,
// Config.MaxNonceBytes for nonce, Config.MaxParamBytes for the others. Scope
// is bounded by parseScope instead. The description never repeats what was
// too long.
func (s *Server) checkParamSizes(p url.Values, names ...string) error {
	check := func(name, value string) error {
		if len(name) > s.cfg.MaxParamBytes {
			return oauth.ErrInvalidRequest.WithDescription("a parameter name is too long")
		}
		limit := s.cfg.MaxParamBytes
		switch name {
		case "scope":
			return nil
		case "state":
			limit = s.cfg.MaxStateBytes
		case "nonce":
			limit = s.cfg.MaxNonceBytes
		}
		if len(value) > limit {
			return oauth.ErrInvalidRequest.WithDescription("parameter " + strconv.Quote(name) + " is too long")
		}
		return nil
	}
	if len(names) > 0 {
		for _, n := range names {
			if err := check(n, p.Get(n)); err != nil {
				return err
			}
		}
		return nil
	}
	for k := range p {
		if err := check(k, p.Get(k)); err != nil {
			return err
		}
	}
	return nil
}

// checkStoredSize refuses a pending request that would store more than
// Config.MaxAuthRequestBytes, or more than Config.MaxParams Extra
// parameters.
func (s *Server) checkStoredSize(ar *storage.AuthRequest) error {
	if len(ar.Extra) > s.cfg.MaxParams || authRequestSize(ar) > s.cfg.MaxAuthRequestBytes {
		return oauth.ErrInvalidRequest.WithDescription("the authorization request is too large")
	}
	return nil
}

// authRequestSize is the number of bytes of the strings a pending request
// stores.
func authRequestSize(ar *storage.AuthRequest) int {
	n := len(ar.ID) + len(ar.ClientID) + len(ar.RedirectURI) + len(ar.ResponseType) +
		len(ar.ResponseMode) + len(ar.Audience) + len(ar.State) + len(ar.Nonce) +
		len(ar.CodeChallenge) + len(ar.CodeChallengeMethod) + len(ar.CSRF)
	for _, v := range ar.Scopes {
		n += len(v)
	}
	for _, v := range ar.Prompt {
		n += len(v)
	}
	for k, v := range ar.Extra {
		n += len(k) + len(v)
	}
	return n
}
