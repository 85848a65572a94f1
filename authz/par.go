package authz

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// requestURIPrefix starts every request_uri the pushed authorization
// request endpoint returns (RFC 9126 §2.2).
const requestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// pushedRequestType marks a stored pushed request among the pending
// authorization requests: it is no pending request (no browser holds its
// binding cookie) and only /authorize with its request_uri takes it.
const pushedRequestType = "urn:ietf:params:oauth:request_uri"

// pushedIDLen is the length of the random part of a request_uri:
// token.Random(24) is 32 base64url characters.
const pushedIDLen = 32

// credentialParams are the client authentication parameters of a pushed
// request, which are not authorization parameters and are never stored.
var credentialParams = []string{"client_secret", "client_assertion", "client_assertion_type"}

// pushedResponse is the answer of the pushed authorization request
// endpoint (RFC 9126 §2.2).
type pushedResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int64  `json:"expires_in"`
}

// servePAR is the pushed authorization request endpoint (RFC 9126 §2):
// it authenticates the client as the token endpoint does, validates the
// authorization request as /authorize does (parseAuthorize), and stores its
// parameters for one use within Config.PushedRequestLifetime.
func (s *Server) servePAR(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, err := s.readForm(w, r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	c, err := s.authenticateForm(ctx, r, form)
	if err != nil {
		s.writeError(w, err)
		return
	}
	params, err := pushedParams(c, form)
	if err != nil {
		s.writeError(w, err)
		return
	}
	if _, _, _, err := s.parseAuthorize(ctx, params); err != nil {
		var pe *pageError
		if errors.As(err, &pe) {
			err = pe.err
		}
		s.writeError(w, err)
		return
	}
	now := s.cfg.Now()
	rec := &storage.AuthRequest{
		ID:           token.Random(24),
		ClientID:     c.ID,
		ResponseType: pushedRequestType,
		CSRF:         token.Random(24), // never disclosed: no browser can resume it
		Extra:        make(map[string]string, len(params)),
		CreatedAt:    now.UTC(),
		ExpiresAt:    now.Add(s.cfg.PushedRequestLifetime).UTC(),
	}
	for k, v := range params {
		rec.Extra[k] = v[0]
	}
	if err := s.checkStoredSize(rec); err != nil {
		s.writeError(w, err)
		return
	}
	if err := s.store.CreateAuthRequest(ctx, rec); err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, pushedResponse{
		RequestURI: requestURIPrefix + rec.ID,
		ExpiresIn:  int64(s.cfg.PushedRequestLifetime.Seconds()),
	})
}

// pushedParams are the authorization parameters of a pushed request: the
// form without the client's credentials, for the authenticated client
// (RFC 9126 §2.1). A request_uri inside a pushed request is refused.
func pushedParams(c *storage.Client, form url.Values) (url.Values, error) {
	if form.Has("request_uri") {
		return nil, oauth.ErrInvalidRequest.WithDescription("a pushed request cannot carry request_uri")
	}
	if id := form.Get("client_id"); id != "" && id != c.ID {
		return nil, oauth.ErrInvalidRequest.WithDescription("client_id is not the authenticated client")
	}
	params := make(url.Values, len(form))
	for k, v := range form {
		params[k] = v
	}
	for _, k := range credentialParams {
		delete(params, k)
	}
	params.Set("client_id", c.ID)
	return params, nil
}

// errRequestURI is the one answer to a request_uri that cannot be used:
// unknown, expired, already used, or pushed by another client.
var errRequestURI = oauth.ErrInvalidRequestURI.WithDescription("unknown, expired or used request_uri")

// takePushed resolves the request_uri of an authorization request (RFC
// 9126 §4): the pushed parameters, taken once, replace every parameter of
// the request. The request's client_id must be the pushing client's; a
// request_uri presented with another client_id is not consumed.
func (s *Server) takePushed(ctx context.Context, p url.Values) (url.Values, error) {
	clientID := p.Get("client_id")
	if clientID == "" {
		return nil, oauth.ErrInvalidRequest.WithDescription("client_id is required")
	}
	id, ok := strings.CutPrefix(p.Get("request_uri"), requestURIPrefix)
	if !ok || len(id) != pushedIDLen {
		return nil, errRequestURI
	}
	rec, err := s.store.GetAuthRequest(ctx, id)
	if err == nil && !pushedFor(rec, clientID) {
		err = storage.ErrNotFound
	}
	if err == nil {
		// The take is the single use: of concurrent requests, one gets it.
		rec, err = s.store.TakeAuthRequest(ctx, id)
	}
	if errors.Is(err, storage.ErrNotFound) || err == nil && !pushedFor(rec, clientID) {
		return nil, errRequestURI
	}
	if err != nil {
		return nil, err
	}
	params := make(url.Values, len(rec.Extra))
	for k, v := range rec.Extra {
		params.Set(k, v)
	}
	return params, nil
}

// pushedFor reports whether a stored request is a pushed one of client.
func pushedFor(rec *storage.AuthRequest, client string) bool {
	return rec.ResponseType == pushedRequestType &&
		subtle.ConstantTimeCompare([]byte(rec.ClientID), []byte(client)) == 1
}

// requirePushed reports whether client may send authorization requests only
// through the pushed authorization request endpoint (RFC 9126 §5, §6).
func (s *Server) requirePushed(c *storage.Client) bool {
	return s.cfg.RequirePushedAuthorizationRequests || c.RequirePushedAuthorizationRequests
}
