package tenant

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// wellKnownAS is the RFC 8414 §3.1 metadata location, which for an issuer
// with a path goes before the path.
const wellKnownAS = "/.well-known/oauth-authorization-server"

// Handler serves every tenant's endpoints (authz.Server.Handler): path-based,
// a request for BaseURL's path + "/<id>/..." (and the RFC 8414 §3.1
// metadata at /.well-known/oauth-authorization-server/<path>/<id>) goes to
// tenant id; host-based, a request to <id>.<Domain>. Paths are passed on
// unchanged, as the tenant's Server serves under its issuer's path: mount
// the Handler where that path arrives whole (no http.StripPrefix). A
// request for an unknown or deleted tenant is 404 with an OAuth-style JSON
// error; one the store cannot answer, 503.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		id, ok := r.route(req)
		if !ok {
			writeNotFound(w)
			return
		}
		e, err := r.acquire(req.Context(), id, true)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			writeNotFound(w)
			return
		case err != nil:
			oauth.WriteError(w, authz.AsError(err))
			return
		}
		defer e.inflight.Done()
		e.handler.ServeHTTP(w, req)
	})
}

// route returns the tenant id a request is for.
func (r *Registry) route(req *http.Request) (string, bool) {
	if r.cfg.Domain != "" {
		host := req.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		id, ok := strings.CutSuffix(host, "."+r.cfg.Domain)
		return id, ok && id != "" && !strings.Contains(id, ".")
	}
	base := r.cfg.basePath()
	p := req.URL.Path
	if rest, ok := strings.CutPrefix(p, wellKnownAS+base); ok && !strings.Contains(rest, "/") {
		return rest, rest != ""
	}
	rest, ok := strings.CutPrefix(p, base)
	if !ok {
		return "", false
	}
	id, _, _ := strings.Cut(rest, "/")
	return id, id != ""
}

// writeNotFound answers a request for a tenant that does not exist.
func writeNotFound(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	_ = json.NewEncoder(w).Encode(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{"not_found", "no such tenant"})
}
