package replicas_test

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/scopekit/scopekit/authz"
)

// keyControl adds the replica program's key-management endpoints, which
// the test calls to rotate, retire and remove signing keys at one replica:
//
//	POST /test/keys/rotate            RotateKey("RS256"); the body is the new kid
//	POST /test/keys/retire?kid=KID    RetireKey(KID)
//	POST /test/keys/remove?kid=KID    RemoveKey(KID)
//
// They exist only in this test program, on the loopback listener of a
// replica the test started.
func keyControl(mux *http.ServeMux, srv *authz.Server) {
	do := func(f func(ctx context.Context, kid string) (string, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
			defer cancel()
			out, err := f(ctx, r.URL.Query().Get("kid"))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			_, _ = io.WriteString(w, out)
		}
	}
	mux.Handle("POST /test/keys/rotate", do(func(ctx context.Context, _ string) (string, error) {
		return srv.RotateKey(ctx, "RS256")
	}))
	mux.Handle("POST /test/keys/retire", do(func(ctx context.Context, kid string) (string, error) {
		return kid, srv.RetireKey(ctx, kid)
	}))
	mux.Handle("POST /test/keys/remove", do(func(ctx context.Context, kid string) (string, error) {
		return kid, srv.RemoveKey(ctx, kid)
	}))
}
