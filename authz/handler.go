package authz

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// Handler returns the server's HTTP endpoints, under the issuer's path:
// /oauth/token, /oauth/introspect, /oauth/revoke, /.well-known/jwks.json,
// /.well-known/openid-configuration and /.well-known/oauth-authorization-server
// (also at its RFC 8414 §3.1 location for issuers with a path). Browser
// clients may call the token, revocation and userinfo endpoints from the
// origins they registered (Client.AllowedOrigins; CORS, cors.go); the
// public documents are readable from any origin.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	e := s.endpoints
	mux.HandleFunc(e.token, corsEndpoint(http.MethodPost, s.serveToken))
	mux.HandleFunc(e.introspect, s.serveIntrospect)
	mux.HandleFunc(e.revoke, corsEndpoint(http.MethodPost, s.serveRevoke))
	mux.HandleFunc(e.jwks, publicCORS(s.serveJWKS))
	mux.HandleFunc(e.oidcConfig, publicCORS(s.serveDiscovery))
	mux.HandleFunc(e.asMetadata, publicCORS(s.serveDiscovery))
	if e.asMetadataRFC != e.asMetadata {
		mux.HandleFunc(e.asMetadataRFC, publicCORS(s.serveDiscovery))
	}
	s.handleDevice(mux)
	if s.interactive() {
		mux.HandleFunc(e.authorize, s.serveAuthorize)
		mux.HandleFunc(e.resume, s.serveResume)
		mux.HandleFunc(e.consent, s.serveConsent)
		mux.HandleFunc(e.par, s.servePAR)
		mux.HandleFunc(e.logout, s.serveLogout)
		mux.HandleFunc(e.userinfo, corsEndpoint("GET, POST", s.serveUserinfo))
	}
	return mux
}

// interactive reports whether the server runs user-facing flows: a login
// hook and a response type to answer at /authorize.
func (s *Server) interactive() bool {
	return s.cfg.Login != nil && s.responseTypeEnabled("code")
}

// authenticateForm authenticates the client of a request to an endpoint
// other than the token endpoint (introspection, revocation, any endpoint
// a client calls with its credentials) by the same rules as the token
// endpoint, and returns the authenticated client.
func (s *Server) authenticateForm(ctx context.Context, r *http.Request, form url.Values) (*storage.Client, error) {
	req := &TokenRequest{}
	if err := readClientCredentials(r, form, req); err != nil {
		return nil, err
	}
	if err := checkClientID(req.ClientID, req.AuthMethod); err != nil {
		return nil, err
	}
	c, err := s.store.Clients().Get(ctx, req.ClientID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if err := s.authenticateClient(ctx, c, req); err != nil {
		return nil, s.authFailed(ctx, req, err)
	}
	return c, nil
}

// serveIntrospect is the RFC 7662 endpoint; confidential clients only.
func (s *Server) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	form, err := s.readForm(w, r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	c, err := s.authenticateForm(r.Context(), r, form)
	if err != nil {
		s.writeError(w, err)
		return
	}
	if c.Public {
		s.writeError(w, oauth.ErrUnauthorizedClient.WithDescription("public clients may not introspect"))
		return
	}
	tok := form.Get("token")
	if tok == "" {
		s.writeError(w, oauth.ErrInvalidRequest.WithDescription("token is required"))
		return
	}
	in, err := s.introspectFor(r.Context(), c, tok)
	if err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, in)
}

// serveRevoke is the RFC 7009 endpoint.
func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request) {
	form, err := s.readForm(w, r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	c, err := s.authenticateForm(r.Context(), r, form)
	if err != nil {
		s.writeError(w, err)
		return
	}
	allowOrigin(w, r, c)
	tok := form.Get("token")
	if tok == "" {
		s.writeError(w, oauth.ErrInvalidRequest.WithDescription("token is required"))
		return
	}
	if err := s.revokeFor(r.Context(), c, tok); err != nil {
		s.writeError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// serveJWKS publishes the public signing keys (RFC 7517 §5), those waiting
// to sign included.
func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if s.keys.store != nil {
		// A set older than the reload bound may still hold a removed key.
		if err := s.keys.fresh(r.Context()); err != nil {
			s.writeError(w, err)
			return
		}
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	// Never cached longer than this replica may take to learn a change.
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(s.jwksMaxAge()/time.Second)))
	_, _ = w.Write(s.keys.set.JWKS())
}
