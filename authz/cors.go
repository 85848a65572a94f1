package authz

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// Cross-origin resource sharing (the Fetch standard's CORS protocol) for
// browser clients: single-page applications calling the token, revocation
// and userinfo endpoints from their own origin. See docs/OPERATIONS.md.
//
// A preflight is answered for any well-formed origin, without a lookup: it
// grants nothing, since the requests it admits (a JSON body, an
// Authorization header) can be sent from anywhere but a browser alike and
// form posts need no preflight at all. What CORS guards is the response:
// the actual request gets Access-Control-Allow-Origin only when the client
// it authenticated (or the public client it names) registered the origin
// in Client.AllowedOrigins. Credentials (cookies) are never allowed: these
// endpoints authenticate by parameters and headers only.

const (
	// maxOriginBytes bounds a registered or presented origin.
	maxOriginBytes = 256
	// corsMaxAge is how long a browser may cache a preflight (seconds).
	corsMaxAge = "600"
	// corsAllowHeaders are the request headers a browser client may send.
	corsAllowHeaders = "Authorization, Content-Type, DPoP"
)

// checkOrigin checks a registered web origin: scheme://host[:port] as a
// browser serialises it (lower case, no default port), https or http on a
// loopback host, no path, query, fragment, userinfo or wildcard.
func checkOrigin(o string) error {
	if len(o) > maxOriginBytes {
		return fmt.Errorf("authz: origin longer than %d bytes", maxOriginBytes)
	}
	u, err := oauth.SecureURL(o)
	if err != nil {
		return fmt.Errorf("authz: origin %w", err)
	}
	switch {
	case strings.Contains(o, "*"):
		return fmt.Errorf("authz: origin %q may not hold a wildcard: list each origin", o)
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || o != u.Scheme+"://"+u.Host:
		return fmt.Errorf("authz: origin %q must be scheme://host[:port] alone", o)
	case u.Port() == "443" && u.Scheme == "https" || u.Port() == "80" && u.Scheme == "http":
		return fmt.Errorf("authz: origin %q names its scheme's default port: browsers send it without", o)
	case o != strings.ToLower(o):
		return fmt.Errorf("authz: origin %q must be lower case, as browsers send it", o)
	}
	return nil
}

// corsEndpoint wraps an endpoint browser clients may call: a request with an
// Origin gets Vary: Origin (the answer depends on it), and a preflight is
// answered here with the methods, the headers and a max-age. The handler
// itself adds Access-Control-Allow-Origin (allowOrigin) once it knows the
// client.
func corsEndpoint(methods string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			h(w, r)
			return
		}
		w.Header().Add("Vary", "Origin")
		if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
			h(w, r)
			return
		}
		if checkOrigin(origin) == nil {
			hd := w.Header()
			hd.Set("Access-Control-Allow-Origin", origin)
			hd.Set("Access-Control-Allow-Methods", methods)
			hd.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			hd.Set("Access-Control-Max-Age", corsMaxAge)
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// publicCORS wraps a public document (JWKS, discovery): readable from any
// origin, without credentials.
func publicCORS(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD")
			w.Header().Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h(w, r)
	}
}

// allowOrigin lets the request's origin read the response when the client
// registered it. Call it once the client is authenticated, before the
// answer is written.
func allowOrigin(w http.ResponseWriter, r *http.Request, c *storage.Client) {
	origin := r.Header.Get("Origin")
	if origin != "" && c != nil && slices.Contains(c.AllowedOrigins, origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
}

// corsClient is where Issue notes the client it authenticated, for the
// token endpoint's allowOrigin; set in the context of requests with an
// Origin only.
type corsClient struct{ client *storage.Client }

type corsClientKey struct{}

// withCORSClient returns ctx carrying a slot for the authenticated client.
func withCORSClient(ctx context.Context, slot *corsClient) context.Context {
	return context.WithValue(ctx, corsClientKey{}, slot)
}

// noteClient records the authenticated client in ctx's slot, if any.
func noteClient(ctx context.Context, c *storage.Client) {
	if slot, ok := ctx.Value(corsClientKey{}).(*corsClient); ok {
		slot.client = c
	}
}
