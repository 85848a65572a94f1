package authz

import (
	"net/http"
	"strconv"
	"strings"
)

// RequireScopes returns middleware that lets a request through only with a
// valid bearer token holding every scope (RFC 6750).
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
			raw, ok := a.bearer(w, r)
			if !ok {
				return
			}
			p, err := a.Authorize(r.Context(), raw, req)
			if err != nil {
				a.challenge(w, AsError(err))
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}

// RequireScopes is Server.Authorizer("").RequireScopes: middleware for the
// default audience.
func (s *Server) RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	return s.defaultAuthorizer.RequireScopes(scopes...)
}

// BearerToken returns the token of an "Authorization: Bearer" header
// (RFC 6750 §2.1). Tokens in query strings or bodies are not read.
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	t := strings.TrimSpace(h[len(prefix):])
	return t, t != ""
}

// challenge writes the RFC 6750 §3 answer: the WWW-Authenticate header and,
// for errors, a JSON body.
func (a *Authorizer) challenge(w http.ResponseWriter, e *Error) {
	var b strings.Builder
	b.WriteString("Bearer realm=")
	b.WriteString(strconv.Quote(a.realm))
	if e == nil {
		w.Header().Set("WWW-Authenticate", b.String())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if e.Code == ErrInvalidToken.Code || e.Code == ErrInsufficientScope.Code || e.Code == ErrInvalidRequest.Code {
		b.WriteString(`, error="` + e.Code + `"`)
		if e.Description != "" {
			b.WriteString(", error_description=" + strconv.Quote(e.Description))
		}
		if e.Scope != "" {
			b.WriteString(", scope=" + strconv.Quote(e.Scope))
		}
	}
	w.Header().Set("WWW-Authenticate", b.String())
	setRetryAfter(w, e)
	writeJSON(w, e.Status, e)
}
