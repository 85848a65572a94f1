package admin

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/scopekit/scopekit/authz/event"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
)

// Bounds of the REST API's requests.
const (
	// MaxBodyBytes bounds a request body: 64 KiB (413 beyond).
	MaxBodyBytes = 64 << 10
	// DefaultTake is the page size of a listing without ?take.
	DefaultTake = 50
	// MaxTake is the largest ?take.
	MaxTake = 100
)

// apiError is the one JSON shape of every REST error answer, Auth0's.
type apiError struct {
	StatusCode int          `json:"statusCode"`
	Error      string       `json:"error"`
	Message    string       `json:"message"`
	ErrorCode  string       `json:"errorCode"`
	Fields     []FieldError `json:"fields,omitempty"`
}

// writeJSON answers v as JSON with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // a failed write means the client went away
}

// writeError answers the error shape.
func writeError(w http.ResponseWriter, status int, code, msg string, fields ...FieldError) {
	writeJSON(w, status, apiError{StatusCode: status, Error: http.StatusText(status), Message: msg, ErrorCode: code, Fields: fields})
}

// fail answers err: a ValidationError is 400 with its fields, a missing
// record 404, a duplicate 409, a stale revision 412, a managed record 409,
// an OAuth error of the issuer its status, anything else 500 (or 503 for a
// store that did not answer) without the backend's text.
func fail(w http.ResponseWriter, err error) {
	var ve *ValidationError
	var oe *oauth.Error
	switch {
	case errors.As(err, &ve):
		code := "invalid_body"
		if ve.Kind == "query" {
			code = "invalid_query"
		}
		writeError(w, http.StatusBadRequest, code, "invalid "+ve.Kind+": see fields", ve.Fields...)
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such record")
	case errors.Is(err, storage.ErrDuplicate):
		writeError(w, http.StatusConflict, "conflict", "a record with this key exists")
	case errors.Is(err, storage.ErrConflict):
		writeError(w, http.StatusPreconditionFailed, "precondition_failed", "the record changed since it was read: read it again")
	case errors.Is(err, ErrManaged):
		writeError(w, http.StatusConflict, "managed", "the record is defined by the server itself")
	case errors.As(err, &oe) && oe.Status < 500:
		writeError(w, http.StatusBadRequest, oe.Code, oe.Description)
	case errors.As(err, &oe) && oe.Status == http.StatusServiceUnavailable:
		oauth.SetRetryAfter(w, oe)
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the store did not answer: try again")
	default:
		writeError(w, http.StatusInternalServerError, "server_error", "internal error")
	}
}

// invalid answers 400 naming one field.
func invalid(w http.ResponseWriter, code, field, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	writeError(w, http.StatusBadRequest, code, field+": "+msg, FieldError{Field: field, Message: msg})
}

// guard lets a request through only with a management-API token holding
// scope (RFC 6750): no token is 401, a bad token or one of another API 401
// invalid_token, a token without the scope 403 insufficient_scope naming
// it. The WWW-Authenticate header is the Authorizer's; the body is the
// error shape of the API.
func (h *restAPI) guard(scope string, next http.HandlerFunc) http.HandlerFunc {
	req := resource.Requirement{AllOf: []string{scope}}
	return func(w http.ResponseWriter, r *http.Request) {
		raw, ok, err := oauth.RequestBearer(r, MaxBodyBytes)
		if err == nil && !ok {
			h.challenge(w, nil)
			return
		}
		if err == nil {
			var p *resource.Principal
			p, err = h.authz.Authorize(r.Context(), raw, req)
			if err == nil {
				ctx := event.WithActor(resource.WithPrincipal(r.Context(), p), actor(p))
				next(w, r.WithContext(ctx))
				return
			}
		}
		h.challenge(w, err)
	}
}

// actor names the caller in the audit log of its writes: the token's
// subject, else its client.
func actor(p *resource.Principal) string {
	if p.Subject != "" {
		return p.Subject
	}
	return p.ClientID
}

// challenge writes the Authorizer's RFC 6750 §3 header and status for err,
// with the API's error body.
func (h *restAPI) challenge(w http.ResponseWriter, err error) {
	hw := &headerOnly{header: http.Header{}}
	h.authz.Challenge(hw, err)
	for _, k := range []string{"WWW-Authenticate", "Retry-After"} {
		if v := hw.header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	code, msg := "invalid_token", "the access token is not valid for this API"
	if oe, ok := oauth.As(err); ok {
		code = oe.Code
		if oe.Description != "" {
			msg = oe.Description
		}
		if oe.Scope != "" {
			msg = "the token lacks the scope " + oe.Scope
		}
	}
	if err == nil {
		code, msg = "missing_token", "an access token of the management API is required (Authorization: Bearer)"
	}
	if hw.status >= 500 {
		code = "temporarily_unavailable"
	}
	writeError(w, hw.status, code, msg)
}

// headerOnly keeps the header and status an answer would have.
type headerOnly struct {
	header http.Header
	status int
}

func (h *headerOnly) Header() http.Header         { return h.header }
func (h *headerOnly) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerOnly) WriteHeader(status int)      { h.status = status }

// readBody returns the request's JSON body: 415 unless the Content-Type is
// application/json, 413 beyond MaxBodyBytes, 400 if it is not one JSON
// object or names a read-only field. It reports false when it answered.
func readBody(w http.ResponseWriter, r *http.Request, readOnly ...string) ([]byte, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "the body must be application/json")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large", fmt.Sprintf("the body exceeds %d bytes", MaxBodyBytes))
		} else {
			writeError(w, http.StatusBadRequest, "invalid_body", "the body could not be read")
		}
		return nil, false
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		writeError(w, http.StatusBadRequest, "invalid_body", "the body must be one JSON object")
		return nil, false
	}
	for _, f := range readOnly {
		if _, ok := obj[f]; ok {
			invalid(w, "invalid_body", f, "is read-only")
			return nil, false
		}
	}
	return body, true
}

// decodeInto decodes body onto v, refusing unknown fields and values of
// the wrong type with the field named, and answers 400 on failure. Fields
// absent from body keep their value in v (a PATCH).
func decodeInto(w http.ResponseWriter, body []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return true
	}
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		invalid(w, "invalid_body", jsonPath(te.Field), "must be a JSON %s", jsonKind(te.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		invalid(w, "invalid_body", name, "is not a field of this resource")
	default:
		writeError(w, http.StatusBadRequest, "invalid_body", "the body is not valid for this resource")
	}
	return false
}

// jsonPath drops from a decoding error's field path the names of embedded
// Go structs (capitalised; every JSON name of the API is lower case).
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	for len(parts) > 1 && parts[0] != "" && parts[0][0] >= 'A' && parts[0][0] <= 'Z' {
		parts = parts[1:]
	}
	return strings.Join(parts, ".")
}

// jsonKind names a Go kind as JSON does.
func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "number"
	case k == "slice", k == "array":
		return "array"
	case k == "map", k == "struct", k == "ptr":
		return "object"
	case k == "bool":
		return "boolean"
	}
	return k
}

// page reads ?from and ?take (Auth0 checkpoint paging) into a Query: take
// is 1 to MaxTake, from an opaque cursor of a previous answer.
func page(w http.ResponseWriter, r *http.Request) (Query, bool) {
	q := Query{Limit: DefaultTake}
	v := r.URL.Query()
	if t := v.Get("take"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > MaxTake {
			invalid(w, "invalid_query", "take", "must be a number from 1 to %d", MaxTake)
			return q, false
		}
		q.Limit = n
	}
	if f := v.Get("from"); f != "" {
		after, err := base64.RawURLEncoding.DecodeString(f)
		if err != nil || len(after) == 0 || len(after) > 4*storage.MaxIDBytes {
			invalid(w, "invalid_query", "from", "must be the next cursor of a previous page")
			return q, false
		}
		q.After = string(after)
	}
	return q, true
}

// writePage answers one page as {"<name>": [...], "next": cursor}.
func writePage[T any](w http.ResponseWriter, name string, p Page[T], view func(*T) any) {
	items := make([]any, len(p.Items))
	for i, it := range p.Items {
		items[i] = view(it)
	}
	out := map[string]any{name: items}
	if p.Next != "" {
		out["next"] = base64.RawURLEncoding.EncodeToString([]byte(p.Next))
	}
	writeJSON(w, http.StatusOK, out)
}

// etag is the strong entity tag of a revision (RFC 9110 §8.8.3).
func etag(rev int64) string { return `"` + strconv.FormatInt(rev, 10) + `"` }

// writeRecord answers one record with its ETag.
func writeRecord(w http.ResponseWriter, status int, rev int64, v any) {
	w.Header().Set("ETag", etag(rev))
	writeJSON(w, status, v)
}

// ifMatch reads If-Match (RFC 9110 §13.1.1): present reports a tag other
// than "*"; a tag that is no revision of ours (weak, malformed, a list)
// matches nothing, so it is revision -1.
func ifMatch(r *http.Request) (rev int64, present bool) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return 0, false
	}
	if len(v) < 3 || v[0] != '"' || v[len(v)-1] != '"' {
		return -1, true
	}
	n, err := strconv.ParseInt(v[1:len(v)-1], 10, 64)
	if err != nil || n < 1 {
		return -1, true
	}
	return n, true
}

// maxUpdateAttempts bounds the re-reads of an update without If-Match
// that lost a race: last writer wins, never an endless loop.
const maxUpdateAttempts = 3

// modify runs one update of a record: read it, check If-Match, change it,
// write it at the revision read (or the If-Match one). Without If-Match a
// lost race is retried from a fresh read; with one it is 412. It answers
// the request and reports the record written, nil when it answered an
// error.
func modify[T any](w http.ResponseWriter, r *http.Request, get func() (*T, error), rev func(*T) *int64,
	change func(*T) bool, save func(*T) error) *T {
	want, present := ifMatch(r)
	for attempt := 1; ; attempt++ {
		cur, err := get()
		if err != nil {
			fail(w, err)
			return nil
		}
		if present && *rev(cur) != want {
			fail(w, storage.ErrConflict)
			return nil
		}
		if !change(cur) {
			return nil
		}
		if present {
			*rev(cur) = want
		}
		err = save(cur)
		if errors.Is(err, storage.ErrConflict) && !present && attempt < maxUpdateAttempts {
			continue
		}
		if err != nil {
			fail(w, err)
			return nil
		}
		return cur
	}
}

// compositeID is the opaque id of a record with a composite key.
func compositeID(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// splitID reverses compositeID into n key parts.
func splitID(id string, n int) ([]string, bool) {
	if len(id) > 8*storage.MaxIDBytes {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return nil, false
	}
	parts := strings.Split(string(b), storage.KeySep)
	if len(parts) != n || !storage.ValidKey(string(b)) {
		return nil, false
	}
	return parts, true
}
