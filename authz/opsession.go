package authz

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// sessionCookie is the cookie that binds a browser to its OP session. Its
// value is a random secret; the session id (the sid of ID tokens, which
// every client of the session sees) is the secret's hash, so that knowing
// a sid does not let anyone present the session.
const sessionCookie = "sk_session"

const defaultSessionLifetime = 24 * time.Hour

// logoutDefaults fills in the OP session and logout settings.
func (c *Config) logoutDefaults() {
	if c.SessionLifetime <= 0 {
		c.SessionLifetime = defaultSessionLifetime
	}
	if c.LogoutClient == nil {
		c.LogoutClient = &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
}

// sessionID is the sid of a session cookie's secret.
func sessionID(secret string) string { return token.Hash(secret) }

// browserSession returns the live OP session the browser's cookie names,
// or nil.
func (s *Server) browserSession(r *http.Request) (*storage.OPSession, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(c.Value) == 0 || len(c.Value) > 128 {
		return nil, nil
	}
	sess, err := s.store.GetSession(r.Context(), sessionID(c.Value))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return sess, err
}

// joinSession records that the browser's sign-in as sess produced tokens
// of family for client, and returns the session id for the ID token's sid.
// The browser's OP session is reused when it is the same user's and at
// least as recent as the host's sign-in; otherwise a new one starts and the
// cookie is set.
func (s *Server) joinSession(w http.ResponseWriter, r *http.Request, sess *Session, clientID, family string) (string, error) {
	ctx := r.Context()
	now := s.cfg.Now()
	entry := storage.SessionClient{ClientID: clientID, Family: family}
	cur, err := s.browserSession(r)
	if err != nil {
		return "", err
	}
	if cur != nil && cur.UserID == sess.UserID && !cur.AuthTime.Before(sess.AuthTime.Truncate(time.Second)) {
		err := s.store.AddSessionClient(ctx, cur.ID, entry, now.UTC())
		if err == nil {
			return cur.ID, nil
		}
		if !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrTooMany) {
			return "", err
		}
	}
	return s.startSession(ctx, w, sess, entry, now)
}

// startSession creates an OP session with its first client and binds the
// browser to it.
func (s *Server) startSession(ctx context.Context, w http.ResponseWriter, sess *Session, entry storage.SessionClient, now time.Time) (string, error) {
	secret := token.Random(32)
	rec := &storage.OPSession{
		ID: sessionID(secret), UserID: sess.UserID, AuthTime: sess.AuthTime.UTC().Truncate(time.Second),
		Clients:   []storage.SessionClient{entry},
		CreatedAt: now.UTC(), LastSeen: now.UTC(), ExpiresAt: now.Add(s.cfg.SessionLifetime).UTC(),
	}
	if err := s.store.CreateSession(ctx, rec); err != nil {
		return "", err
	}
	http.SetCookie(w, s.sessionCookie(secret, int(s.cfg.SessionLifetime/time.Second)))
	return rec.ID, nil
}

// sessionCookie is the OP session cookie: HttpOnly, Secure for an https
// issuer, SameSite=Lax, on the issuer's path. maxAge < 0 deletes it.
func (s *Server) sessionCookie(value string, maxAge int) *http.Cookie {
	path := s.endpoints.path
	if path == "" {
		path = "/"
	}
	return &http.Cookie{Name: sessionCookie, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true,
		Secure: s.endpoints.secure, SameSite: http.SameSiteLaxMode}
}

// withClaim returns a copy of claims with name set to v.
func withClaim(claims map[string]any, name string, v any) map[string]any {
	out := make(map[string]any, len(claims)+1)
	for k, x := range claims {
		out[k] = x
	}
	out[name] = v
	return out
}
