package authz

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/scopekit/scopekit/authz/oauth"
)

// readURLEncoded reads an application/x-www-form-urlencoded body (bounded
// by the http.MaxBytesReader readForm put around it) into url.Values, with
// url.ParseQuery's rules, in three allocations whatever the number of
// parameters: the body as one string that unescaped names and values slice
// into, the map, and one array behind every value slice.
func readURLEncoded(r *http.Request) (url.Values, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	body, err := readAll(r.Body, (*bp)[:0])
	if cap(body) <= maxPooledBuffer {
		*bp = body[:0]
	}
	if err != nil {
		return nil, err
	}
	form, ok := parseForm(string(body))
	if !ok {
		return nil, oauth.ErrInvalidRequest.WithDescription("malformed form body")
	}
	return form, nil
}

// maxFormParams is url.ParseQuery's limit on the parameters of one form,
// kept so that a body of separators cannot make parseForm allocate more
// than a bounded array of values.
const maxFormParams = 10_000

// maxPooledBuffer is the largest buffer kept for reuse: a large body's is
// left to the collector.
const maxPooledBuffer = 16 << 10

// readAll appends what r holds to buf, as io.ReadAll does into a buffer of
// the caller's.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// parseForm parses a form-encoded string as url.ParseQuery does (pairs
// separated by '&', a ';' refused, a pair without '=' a parameter with an
// empty value, '+' and %XX unescaped), except that it stops at the first
// error (ok false). A repeated name gets all its values, for normalizeParams
// to refuse.
func parseForm(s string) (form url.Values, ok bool) {
	n := strings.Count(s, "&") + 1
	if n > maxFormParams {
		return nil, false
	}
	form = make(url.Values, n)
	vals := make([]string, n)
	for i := 0; s != ""; {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if strings.Contains(pair, ";") {
			return nil, false
		}
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return nil, false
		}
		if v, err = url.QueryUnescape(v); err != nil {
			return nil, false
		}
		if prev, ok := form[k]; ok {
			form[k] = append(prev, v)
			continue
		}
		vals[i] = v
		form[k] = vals[i : i+1 : i+1]
		i++
	}
	return form, true
}
