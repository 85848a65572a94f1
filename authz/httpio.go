package authz

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
)

// writeJSON answers v as JSON with the no-store headers every token-bearing
// response needs (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	setNoStore(w)
	w.WriteHeader(status)
	writeBody(w, v)
}

// setNoStore sets the JSON content type and the no-store headers.
func setNoStore(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Cache-Control"] = noStoreValue
	h["Pragma"] = noCacheValue
}

// Header values shared by every response (never modified).
var (
	jsonType     = []string{"application/json"}
	noStoreValue = []string{"no-store"}
	noCacheValue = []string{"no-cache"}
)

// writeBody encodes v as the JSON body; a write error means the client went
// away, and there is no one left to tell.
func writeBody(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

// writeError is the one place an error becomes an HTTP response.
func (s *Server) writeError(w http.ResponseWriter, err error) {
	e := s.fail(err)
	if e.Code == ErrInvalidClient.Code && e.Basic {
		w.Header().Set("WWW-Authenticate", `Basic realm=`+strconv.Quote(s.cfg.Realm))
	}
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, e.Status, e)
}

// readForm parses a POST body, form-encoded (RFC 6749 §3.2) or JSON, bounded
// by the server's body limit. Repeated parameters are refused (RFC 6749
// §3.1); query parameters are ignored, so no credential is read from a URL.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, ErrInvalidRequest.WithDescription("the endpoint accepts POST only")
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, ErrInvalidRequest.WithDescription("Content-Type must be application/x-www-form-urlencoded or application/json")
	}
	var form url.Values
	switch ct {
	case "application/x-www-form-urlencoded":
		form, err = readURLEncoded(r)
	case "application/json":
		form, err = readJSONForm(r)
	default:
		return nil, ErrInvalidRequest.WithDescription("Content-Type must be application/x-www-form-urlencoded or application/json")
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, ErrInvalidRequest.WithDescription("request body too large")
		}
		return nil, err
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, ErrInvalidRequest.WithDescription("parameter " + strconv.Quote(k) + " is repeated")
		}
	}
	return form, nil
}

func readURLEncoded(r *http.Request) (url.Values, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, ErrInvalidRequest.WithDescription("malformed form body")
	}
	return form, nil
}

func readJSONForm(r *http.Request) (url.Values, error) {
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, ErrInvalidRequest.WithDescription("malformed JSON body")
	}
	if dec.More() {
		return nil, ErrInvalidRequest.WithDescription("malformed JSON body")
	}
	form := make(url.Values, len(obj))
	for k, v := range obj {
		switch v := v.(type) {
		case string:
			form.Set(k, v)
		case json.Number:
			form.Set(k, v.String())
		case bool:
			form.Set(k, strconv.FormatBool(v))
		default:
			return nil, ErrInvalidRequest.WithDescription("parameter " + strconv.Quote(k) + " must be a string")
		}
	}
	return form, nil
}
