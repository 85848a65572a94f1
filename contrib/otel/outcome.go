package skotel

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxSniff bounds how much of an error body is kept to read its code.
const maxSniff = 512

// recorder passes a response through, keeping its status and what is
// needed to read the OAuth error code of an error answer: the beginning
// of a JSON body, the error parameter of a redirect, the error of a
// WWW-Authenticate challenge. It keeps nothing of a successful body.
type recorder struct {
	http.ResponseWriter
	status int
	code   string
	sniff  bool
	body   []byte
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
		h := r.Header()
		switch {
		case status >= 300 && status < 400:
			r.code = redirectError(h.Get("Location"))
		case status >= 400:
			ct, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
			r.sniff = ct == "application/json"
			r.code = challengeError(h.Get("WWW-Authenticate"))
		}
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if r.sniff && len(r.body) < maxSniff {
		r.body = append(r.body, b[:min(len(b), maxSniff-len(r.body))]...)
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// outcome is "ok" below 400 without an error parameter, else the known
// OAuth error code of the answer, else "error".
func (r *recorder) outcome() string {
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	code := r.code
	if c := jsonError(r.body); c != "" {
		code = c
	}
	if code == "" {
		if status < 400 {
			return "ok"
		}
		return "error"
	}
	return codeOutcome(code)
}

// jsonError reads the "error" member of a (possibly truncated) JSON
// object (RFC 6749 §5.2), "" when there is none.
func jsonError(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	d := json.NewDecoder(bytes.NewReader(body))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return ""
		}
		if k == "error" {
			v, _ := d.Token()
			s, _ := v.(string)
			return s
		}
		var skip json.RawMessage
		if d.Decode(&skip) != nil {
			return ""
		}
	}
	return ""
}

// redirectError reads the error parameter of an authorization response
// redirect (RFC 6749 §4.1.2.1), in its query or its fragment.
func redirectError(location string) string {
	u, err := url.Parse(location)
	if err != nil {
		return ""
	}
	if e := u.Query().Get("error"); e != "" {
		return e
	}
	f, _ := url.ParseQuery(u.Fragment)
	return f.Get("error")
}

// challengeError reads the error attribute of a Bearer challenge
// (RFC 6750 §3).
func challengeError(h string) string {
	_, rest, ok := strings.Cut(h, `error="`)
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(rest, `"`)
	return code
}
