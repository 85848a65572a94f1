package admin_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/scopekit/scopekit/storage/memory"
)

// TestDocumentRefusesLeaks shows the response checks can fail: a client
// answer carrying its secret hash, a key answer carrying its private JWK,
// and an error without errorCode are all refused by the document.
func TestDocumentRefusesLeaks(t *testing.T) {
	e := newEnv(t, memory.New())
	for _, c := range []struct{ path, body string }{
		{"/api/v2/clients/x", `{"client_id":"x","client_name":"X","revision":1,"secret_hash":"AAAA"}`},
		{"/api/v2/keys/signing/k", `{"kid":"k","alg":"ES256","created_at":"2024-01-01T00:00:00Z","jwk":{"d":"secret"}}`},
		{"/api/v2/users/u", `{"statusCode":404,"error":"Not Found","message":"no"}`},
	} {
		req, _ := http.NewRequest("GET", e.ts.URL+c.path, nil)
		status := http.StatusOK
		if c.path == "/api/v2/users/u" {
			status = http.StatusNotFound
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader([]byte(c.body))), Request: req}
		if ok, _ := e.v.ValidateHttpResponse(req, resp); ok {
			t.Errorf("%s: the document accepts %s", c.path, c.body)
		}
	}
}
