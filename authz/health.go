package authz

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// readinessTimeout bounds the checks of one readiness probe.
const readinessTimeout = 2 * time.Second

// healthProbeID is the client id a store without storage.Checker is probed
// with: a read that finds nothing, as cheap as a read gets.
const healthProbeID = "scopekit-health-probe"

// Names of the checks (the keys of the readiness answer's "checks").
const (
	checkStore = "store"
	checkKeys  = "keys"
)

// checks runs the readiness checks and returns each one's outcome, nil for
// a passing check:
//   - store: the backend answers (storage.Checker, else a read of a
//     missing client);
//   - keys: with keys in the store, the last good reload is within
//     Config.KeyReloadInterval (else they are reloaded now, and a failure
//     counts), and a key signs for RS256, the default algorithm of access
//     and ID tokens.
func (s *Server) checks(ctx context.Context) map[string]error {
	return map[string]error{checkStore: s.checkStore(ctx), checkKeys: s.checkKeys(ctx)}
}

func (s *Server) checkStore(ctx context.Context) error {
	if c, ok := s.store.(storage.Checker); ok {
		return c.Check(ctx)
	}
	if _, err := s.store.Clients().Get(ctx, healthProbeID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return nil
}

func (s *Server) checkKeys(ctx context.Context) error {
	if s.keys.store != nil {
		if err := s.keys.fresh(ctx); err != nil {
			return err
		}
	}
	_, err := s.keys.set.SignerAt(token.RS256, s.keys.now())
	return err
}

// Check reports whether the server can serve tokens now: nil when its
// store answers, its signing keys are loaded (with keys in the store: not
// older than Config.KeyReloadInterval, or reloaded now) and a key signs for
// RS256. Otherwise the error names the failed checks. It is what
// ReadinessHandler answers; a host may call it from its own probe. Give ctx
// a deadline: a store that does not answer holds Check as long as ctx (or
// the driver's own timeout) allows.
func (s *Server) Check(ctx context.Context) error {
	res := s.checks(ctx)
	var errs []error
	for _, name := range []string{checkStore, checkKeys} {
		if err := res[name]; err != nil {
			errs = append(errs, fmt.Errorf("authz: check %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// readiness is the body of a readiness answer.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

// ReadinessHandler returns a readiness probe for the host to mount (for
// example at /readyz): GET or HEAD answers 200 {"status":"ok"} when Check
// passes, and 503 {"status":"unavailable","checks":{"store":"ok","keys":
// "unavailable"}} with Retry-After when it does not, naming no internal
// error (the causes are logged, once until the server is ready again). The
// checks are bounded by two seconds. A liveness probe needs no handler of
// the server: an outage of the store is not cured by restarting the
// process (docs/OPERATIONS.md).
func (s *Server) ReadinessHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), readinessTimeout)
		defer cancel()
		res := s.checks(ctx)
		body := readiness{Status: "ok"}
		var failed []any
		for name, err := range res {
			if err != nil {
				body.Status = "unavailable"
				failed = append(failed, name, err)
			}
		}
		if failed == nil {
			if s.unready.Swap(false) {
				s.cfg.Logger.Info("authz: ready again", "issuer", s.cfg.Issuer)
			}
			writeJSON(w, http.StatusOK, body)
			return
		}
		if !s.unready.Swap(true) {
			s.cfg.Logger.Warn("authz: not ready", append([]any{"issuer", s.cfg.Issuer}, failed...)...)
		}
		body.Checks = make(map[string]string, len(res))
		for name, err := range res {
			body.Checks[name] = "ok"
			if err != nil {
				body.Checks[name] = "unavailable"
			}
		}
		w.Header().Set("Retry-After", oauth.RetryAfterSeconds)
		writeJSON(w, http.StatusServiceUnavailable, body)
	})
}
