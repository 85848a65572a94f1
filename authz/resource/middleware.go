package resource

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/scopekit/scopekit/authz/oauth"
)

// RequireScopes returns middleware that lets a request through only with a
// valid bearer or DPoP-bound token holding every scope (RFC 6750, RFC 9449).
func (a *Authorizer) RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	return a.Require(Requirement{AllOf: scopes})
}

// RequireAnyScope returns middleware that lets a request through only with a
// valid bearer token holding at least one of the scopes.
func (a *Authorizer) RequireAnyScope(scopes ...string) func(http.Handler) http.Handler {
	return a.Require(Requirement{AnyOf: scopes})
}

// Require returns middleware enforcing req. A request without a token gets
// 401 with a bare Bearer challenge; a bad token 401 invalid_token; a missing
// scope 403 insufficient_scope (RFC 6750 §3). The verified principal is in the
// request context (PrincipalFrom). A token sent in the header and also in
// the query or a form body is 400 invalid_request (RFC 6750 §2).
func (a *Authorizer) Require(req Requirement) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := a.AuthorizeRequest(w, r, req)
			if !ok {
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}

// Bearer returns the request's bearer token (oauth.RequestBearer). Without
// one it answers the bare challenge, for one sent by more than one method
// 400 invalid_request, and reports false: the caller's answer is written.
func (a *Authorizer) Bearer(w http.ResponseWriter, r *http.Request) (string, bool) {
	raw, ok, err := oauth.RequestBearer(r, a.maxBody)
	if err != nil {
		a.Challenge(w, err)
		return "", false
	}
	if !ok {
		a.Challenge(w, nil)
	}
	return raw, ok
}

// Challenge writes the RFC 6750 §3 answer for err: a nil err is the bare
// "Bearer realm" challenge of a request without a token (401); an
// invalid_token, insufficient_scope or invalid_request error is named in
// the WWW-Authenticate header and the JSON body; any other error is turned
// into an *oauth.Error (server_error, or temporarily_unavailable with
// Retry-After for a deadline) and answered in the body only.
func (a *Authorizer) Challenge(w http.ResponseWriter, err error) {
	var b strings.Builder
	b.WriteString("Bearer realm=")
	b.WriteString(strconv.Quote(a.realm))
	if a.metadataURL != "" {
		b.WriteString(`, resource_metadata="` + a.metadataURL + `"`)
	}
	if err == nil {
		w.Header().Set("WWW-Authenticate", b.String())
		w.Header().Add("WWW-Authenticate", a.dpopChallenge())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	e := asError(err)
	if e.Is(oauth.ErrInvalidToken) || e.Is(oauth.ErrInsufficientScope) || e.Is(oauth.ErrInvalidRequest) {
		b.WriteString(`, error="` + e.Code + `"`)
		if e.Description != "" {
			b.WriteString(", error_description=" + strconv.Quote(e.Description))
		}
		if e.Scope != "" {
			b.WriteString(", scope=" + strconv.Quote(e.Scope))
		}
	}
	w.Header().Set("WWW-Authenticate", b.String())
	oauth.WriteError(w, e)
}
