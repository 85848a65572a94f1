package tenant

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
)

// The scopes of the tenants management API (seed: Auth REST API scopes).
const (
	ScopeList   = "auth.tenants.list"
	ScopeCreate = "auth.tenants.create"
	ScopeRead   = "auth.tenants.read"
	ScopeUpdate = "auth.tenants.update"
	ScopeDelete = "auth.tenants.delete"
)

// APIPath is where API serves its routes.
const APIPath = "/api/v2/tenants"

// maxAPIBody bounds a request body of the tenants API.
const maxAPIBody = 4 << 10

// API returns the tenants management API, for the host to mount at
// APIPath (and APIPath + "/"):
//
//	GET    /api/v2/tenants        auth.tenants.list    ?per_page=&from= (cursor)
//	POST   /api/v2/tenants        auth.tenants.create  {"id","name"}
//	GET    /api/v2/tenants/{id}   auth.tenants.read
//	PATCH  /api/v2/tenants/{id}   auth.tenants.update  {"name"}, If-Match: "<revision>"
//	DELETE /api/v2/tenants/{id}   auth.tenants.delete
//
// Every request needs a bearer token that auth verifies: give it the
// Authorizer of the root tenant's management API audience
// (rootServer.Authorizer(audience)), so that a token of any other tenant,
// whose issuer differs, is 401. Errors have the Auth0 shape
// {"statusCode","error","message","errorCode"}; 401 and 403 also carry an
// RFC 6750 §3 WWW-Authenticate challenge naming the missing scope.
func (r *Registry) API(auth *resource.Authorizer) http.Handler {
	a := &api{r: r, auth: auth}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+APIPath, a.guard(ScopeList, a.list))
	mux.HandleFunc("POST "+APIPath, a.guard(ScopeCreate, a.create))
	mux.HandleFunc("GET "+APIPath+"/{id}", a.guard(ScopeRead, a.get))
	mux.HandleFunc("PATCH "+APIPath+"/{id}", a.guard(ScopeUpdate, a.update))
	mux.HandleFunc("DELETE "+APIPath+"/{id}", a.guard(ScopeDelete, a.remove))
	mux.HandleFunc(APIPath, a.notAllowed)
	mux.HandleFunc(APIPath+"/{id}", a.notAllowed)
	return mux
}

type api struct {
	r    *Registry
	auth *resource.Authorizer
}

// tenantJSON is a tenant on the wire.
type tenantJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	Issuer    string    `json:"issuer"`
	CreatedAt time.Time `json:"created_at"`
	Revision  int64     `json:"revision"`
}

func (a *api) view(t *storage.Tenant) tenantJSON {
	return tenantJSON{ID: t.ID, Name: t.Name, Issuer: a.r.Issuer(t.ID), CreatedAt: t.CreatedAt, Revision: t.Revision}
}

// guard checks the bearer token for scope before next runs.
func (a *api) guard(scope string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		raw, ok, err := oauth.RequestBearer(req, maxAPIBody)
		if err != nil || !ok {
			w.Header().Set("WWW-Authenticate", `Bearer`)
			writeAPIError(w, http.StatusUnauthorized, "Missing authentication", "")
			return
		}
		if _, err := a.auth.Authorize(req.Context(), raw, resource.Requirement{AllOf: []string{scope}}); err != nil {
			e, _ := oauth.As(err)
			switch {
			case e != nil && e.Is(oauth.ErrInsufficientScope):
				w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope=`+strconv.Quote(scope))
				writeAPIError(w, http.StatusForbidden, "Insufficient scope, expected all of: "+scope, "insufficient_scope")
			case e != nil && e.Status == http.StatusUnauthorized:
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				writeAPIError(w, http.StatusUnauthorized, "Invalid token", "invalid_token")
			case e != nil && e.Status == http.StatusBadRequest:
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request"`)
				writeAPIError(w, http.StatusBadRequest, "Malformed bearer token request", "invalid_request")
			case e != nil && e.Status == http.StatusServiceUnavailable:
				w.Header().Set("Retry-After", oauth.RetryAfterSeconds)
				writeAPIError(w, http.StatusServiceUnavailable, "The issuer is unavailable", "temporarily_unavailable")
			default:
				writeStoreError(w, err)
			}
			return
		}
		next(w, req)
	}
}

func (a *api) list(w http.ResponseWriter, req *http.Request) {
	q := storage.ListQuery{After: req.URL.Query().Get("from")}
	if s := req.URL.Query().Get("per_page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > storage.MaxPageSize {
			writeAPIError(w, http.StatusBadRequest, "per_page must be 1 to "+strconv.Itoa(storage.MaxPageSize), "invalid_query_string")
			return
		}
		q.Limit = n
	}
	page, err := a.r.List(req.Context(), q)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	out := struct {
		Tenants []tenantJSON `json:"tenants"`
		Next    string       `json:"next,omitempty"`
	}{Tenants: make([]tenantJSON, 0, len(page.Items)), Next: page.Next}
	for _, t := range page.Items {
		out.Tenants = append(out.Tenants, a.view(t))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) create(w http.ResponseWriter, req *http.Request) {
	var in struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if !readBody(w, req, &in) {
		return
	}
	t := &storage.Tenant{ID: in.ID, Name: in.Name}
	if err := a.r.Create(req.Context(), t); err != nil {
		writeStoreError(w, err)
		return
	}
	w.Header().Set("Location", APIPath+"/"+t.ID)
	w.Header().Set("ETag", etag(t.Revision))
	writeJSON(w, http.StatusCreated, a.view(t))
}

func (a *api) get(w http.ResponseWriter, req *http.Request) {
	t, err := a.r.Get(req.Context(), req.PathValue("id"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	w.Header().Set("ETag", etag(t.Revision))
	writeJSON(w, http.StatusOK, a.view(t))
}

func (a *api) update(w http.ResponseWriter, req *http.Request) {
	rev, err := strconv.ParseInt(strings.Trim(req.Header.Get("If-Match"), `"`), 10, 64)
	if err != nil {
		writeAPIError(w, http.StatusPreconditionRequired, `If-Match with the tenant's ETag is required`, "precondition_required")
		return
	}
	var in struct {
		Name string `json:"name"`
	}
	if !readBody(w, req, &in) {
		return
	}
	t := &storage.Tenant{ID: req.PathValue("id"), Name: in.Name}
	t.Revision = rev
	if err := a.r.Rename(req.Context(), t); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			writeAPIError(w, http.StatusPreconditionFailed, "The tenant was changed since it was read", "precondition_failed")
			return
		}
		writeStoreError(w, err)
		return
	}
	w.Header().Set("ETag", etag(t.Revision))
	writeJSON(w, http.StatusOK, a.view(t))
}

func (a *api) remove(w http.ResponseWriter, req *http.Request) {
	if err := a.r.Delete(req.Context(), req.PathValue("id")); err != nil {
		writeStoreError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) notAllowed(w http.ResponseWriter, _ *http.Request) {
	writeAPIError(w, http.StatusMethodNotAllowed, "Method not allowed", "method_not_allowed")
}

// readBody decodes a JSON object of at most maxAPIBody bytes with no
// unknown fields into v; it answers 400 and returns false otherwise.
func readBody(w http.ResponseWriter, req *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(req.Body, maxAPIBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil || dec.More() {
		writeAPIError(w, http.StatusBadRequest, "The body must be one JSON object of known fields, at most 4 KiB", "invalid_body")
		return false
	}
	return true
}

func etag(rev int64) string { return `"` + strconv.FormatInt(rev, 10) + `"` }

// writeStoreError answers a Registry error: invalid 400, not found 404,
// duplicate or conflict 409, unavailable 503, anything else 500 (its text
// is not sent).
func writeStoreError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, storage.ErrInvalid):
		msg := "Invalid request"
		if i := strings.Index(err.Error(), "tenant "); i >= 0 {
			msg = err.Error()[i:] // our own validation message, no stored data
		}
		writeAPIError(w, http.StatusBadRequest, msg, "invalid_body")
	case errors.Is(err, storage.ErrNotFound):
		writeAPIError(w, http.StatusNotFound, "The tenant does not exist", "inexistent_tenant")
	case errors.Is(err, storage.ErrDuplicate):
		writeAPIError(w, http.StatusConflict, "The tenant already exists", "tenant_exists")
	case errors.Is(err, storage.ErrConflict):
		writeAPIError(w, http.StatusConflict, "The tenant is being changed; try again", "conflict")
	case errors.Is(err, storage.ErrUnavailable):
		w.Header().Set("Retry-After", oauth.RetryAfterSeconds)
		writeAPIError(w, http.StatusServiceUnavailable, "The store is unavailable", "temporarily_unavailable")
	default:
		writeAPIError(w, http.StatusInternalServerError, "Internal error", "server_error")
	}
}

// writeAPIError writes an error in the Auth0 Management API shape.
func writeAPIError(w http.ResponseWriter, status int, message, code string) {
	writeJSON(w, status, struct {
		StatusCode int    `json:"statusCode"`
		Error      string `json:"error"`
		Message    string `json:"message"`
		ErrorCode  string `json:"errorCode,omitempty"`
	}{status, http.StatusText(status), message, code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
