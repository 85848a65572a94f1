package authz

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/scopekit/scopekit/authz/oauth"
)

// writeJSON answers v as JSON with the no-store headers every token-bearing
// response needs (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	oauth.SetNoStore(w)
	w.WriteHeader(status)
	writeBody(w, v)
}

// writeBody encodes v as the JSON body; a write error means the client went
// away, and there is no one left to tell.
func writeBody(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

// writeError is the one place an error becomes an HTTP response.
func (s *Server) writeError(w http.ResponseWriter, err error) {
	e := s.fail(err)
	if e.Is(oauth.ErrInvalidClient) && e.Basic {
		w.Header().Set("WWW-Authenticate", `Basic realm=`+strconv.Quote(s.cfg.Realm))
	}
	oauth.WriteError(w, e)
}

// readForm parses a POST body, form-encoded (RFC 6749 §3.2) or JSON, bounded
// by the server's body limit. Repeated parameters (or JSON members) are
// refused and parameters without a value are dropped, as if omitted (RFC 6749
// §3.1); query parameters are ignored, so no credential is read from a URL.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, oauth.ErrInvalidRequest.WithDescription("the endpoint accepts POST only")
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	ct, err := mediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, oauth.ErrInvalidRequest.WithDescription("Content-Type must be application/x-www-form-urlencoded or application/json")
	}
	var form url.Values
	switch ct {
	case "application/x-www-form-urlencoded":
		form, err = readURLEncoded(r)
	case "application/json":
		form, err = readJSONForm(r)
	default:
		return nil, oauth.ErrInvalidRequest.WithDescription("Content-Type must be application/x-www-form-urlencoded or application/json")
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, oauth.ErrInvalidRequest.WithDescription("request body too large")
		}
		return nil, err
	}
	if err := normalizeParams(form); err != nil {
		return nil, err
	}
	return form, nil
}

// mediaType returns the media type of a Content-Type value, without
// parsing the two common ones.
func mediaType(v string) (string, error) {
	switch v {
	case "application/x-www-form-urlencoded", "application/json":
		return v, nil
	}
	ct, _, err := mime.ParseMediaType(v)
	return ct, err
}

// normalizeParams applies RFC 6749 §3.1 to request parameters: a parameter
// sent more than once is refused, and one sent without a value is dropped,
// as if omitted.
func normalizeParams(params url.Values) error {
	for k, v := range params {
		if len(v) > 1 {
			return oauth.ErrInvalidRequest.WithDescription("parameter " + strconv.Quote(k) + " is repeated")
		}
	}
	for k, v := range params {
		if len(v) == 0 || v[0] == "" {
			delete(params, k)
		}
	}
	return nil
}

// readJSONForm reads a JSON object of scalar members as form parameters. It
// streams the object token by token rather than decoding into a map, so a
// member named twice is refused instead of the last one silently winning
// (the JSON counterpart of RFC 6749 §3.1's "no repeated parameters").
func readJSONForm(r *http.Request) (url.Values, error) {
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	malformed := oauth.ErrInvalidRequest.WithDescription("malformed JSON body")
	// fail passes a body-limit error through for readForm to describe.
	fail := func(err error, e *oauth.Error) error {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return e
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fail(err, oauth.ErrInvalidRequest.WithDescription("the JSON body must be an object"))
	}
	form := url.Values{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fail(err, malformed)
		}
		k, ok := t.(string)
		if !ok {
			return nil, malformed
		}
		if form.Has(k) {
			return nil, oauth.ErrInvalidRequest.WithDescription("parameter " + strconv.Quote(k) + " is repeated")
		}
		if t, err = dec.Token(); err != nil {
			return nil, fail(err, malformed)
		}
		switch v := t.(type) {
		case string:
			form.Set(k, v)
		case json.Number:
			form.Set(k, v.String())
		case bool:
			form.Set(k, strconv.FormatBool(v))
		default:
			// null, an object or an array.
			return nil, oauth.ErrInvalidRequest.WithDescription("parameter " + strconv.Quote(k) + " must be a string")
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, fail(err, malformed)
	}
	// Nothing may follow the object.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(err, malformed)
	}
	return form, nil
}
