package authz

import (
	"net/http"
	"time"
)

// Login connects the authorization endpoint to the host application, which
// authenticates users: scopekit never sees or stores a password.
//
// When /authorize needs a user, the server asks Session who is signed in on
// the request. When nobody is (or prompt=login / max_age asks for a fresh
// sign-in), it calls Challenge, which sends the browser to the host's login
// page; after sign-in the host redirects the browser to returnTo, and the
// server resumes the authorization request from its own storage — nothing the
// browser sends back is trusted but the request handle.
type Login interface {
	// Session returns the user signed in on r, or nil when there is none.
	Session(r *http.Request) (*Session, error)
	// Challenge starts the host's sign-in and, once done, sends the browser
	// to returnTo: the absolute URL of this server's /authorize/resume with
	// the request handle. The host's login page must only ever redirect to
	// that URL or to its own paths, never to an address taken unchecked from
	// the browser (an open redirect; see docs/LOGIN.md for a safe check).
	Challenge(w http.ResponseWriter, r *http.Request, returnTo string)
}

// Session is a signed-in user as the host application knows it.
type Session struct {
	// UserID is the id of a storage.User of the tenant.
	UserID string
	// AuthTime is when the user last authenticated (OIDC Core §2 auth_time).
	AuthTime time.Time
}

// LoginFuncs adapts two functions to the Login interface.
type LoginFuncs struct {
	// SessionFunc answers Login.Session.
	SessionFunc func(r *http.Request) (*Session, error)
	// ChallengeFunc answers Login.Challenge.
	ChallengeFunc func(w http.ResponseWriter, r *http.Request, returnTo string)
	// EndSessionFunc, optional, answers Logout.EndSession.
	EndSessionFunc func(w http.ResponseWriter, r *http.Request, userID string)
}

// Session implements Login.
func (l LoginFuncs) Session(r *http.Request) (*Session, error) { return l.SessionFunc(r) }

// Challenge implements Login.
func (l LoginFuncs) Challenge(w http.ResponseWriter, r *http.Request, returnTo string) {
	l.ChallengeFunc(w, r, returnTo)
}

// Logout is the optional part of a Login that ends the host's own session:
// when an OP session ends at the end-session endpoint (RP-initiated
// logout), the server calls EndSession so that the browser is signed out of
// the host too. The host's session stays the host's: scopekit never reads
// or clears its cookies itself.
type Logout interface {
	// EndSession signs userID out of the host on the browser of r; w is the
	// logout response, on which the host may clear its cookies. It must not
	// write the body or the status: the server answers after it.
	EndSession(w http.ResponseWriter, r *http.Request, userID string)
}

// EndSession implements Logout: EndSessionFunc, when set.
func (l LoginFuncs) EndSession(w http.ResponseWriter, r *http.Request, userID string) {
	if l.EndSessionFunc != nil {
		l.EndSessionFunc(w, r, userID)
	}
}
