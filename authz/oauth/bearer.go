package oauth

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

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

// RequestBearer returns the bearer token of r's Authorization header, like
// BearerToken, and refuses a request that also sends an access_token in the
// query or in a form body: RFC 6750 §2 allows one method per request, and
// the answer is invalid_request (§3.1). Only the first limit bytes of a form
// body are read for the check; r.Body is replaced so that the handler still
// reads the whole body. ok is false, with a nil error, when the header holds
// no bearer token.
func RequestBearer(r *http.Request, limit int64) (token string, ok bool, err error) {
	raw, ok := BearerToken(r)
	if !ok {
		return "", false, nil
	}
	twice := ErrInvalidRequest.WithDescription("the access token is sent by more than one method (RFC 6750 §2)")
	if hasFormParam(r.URL.RawQuery, "access_token") || r.PostForm.Get("access_token") != "" {
		// PostForm is set when a handler before this one parsed the body.
		return "", false, twice
	}
	if !formBody(r) {
		return raw, true, nil
	}
	head, err := peekBody(r, limit)
	if err != nil {
		return "", false, ErrInvalidRequest.WithDescription("unreadable request body")
	}
	if hasFormParam(string(head), "access_token") {
		return "", false, twice
	}
	return raw, true, nil
}

// formBody reports whether r has a form-encoded body, the only kind that
// may carry an access_token (RFC 6750 §2.2).
func formBody(r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return false
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && ct == "application/x-www-form-urlencoded"
}

// peekBody reads up to limit bytes of r's body and puts them back in front
// of the rest.
func peekBody(r *http.Request, limit int64) ([]byte, error) {
	head, err := io.ReadAll(io.LimitReader(r.Body, limit))
	if err != nil {
		return nil, err
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	return head, nil
}

// hasFormParam reports whether the form-encoded raw holds name with a
// non-empty value (an empty one counts as omitted, RFC 6749 §3.1). It reads
// raw once, without building the parsed form.
func hasFormParam(raw, name string) bool {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		if v == "" {
			continue
		}
		if k == name {
			return true
		}
		if strings.ContainsAny(k, "%+") {
			if u, err := url.QueryUnescape(k); err == nil && u == name {
				return true
			}
		}
	}
	return false
}
