package authz

import (
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// logoutCSRFCookie carries the confirmation form's CSRF token (a
// double-submitted random value; SameSite=Lax keeps a cross-site POST from
// carrying it).
const logoutCSRFCookie = "sk_logout"

// logoutRequest is a validated end-session request.
type logoutRequest struct {
	hint        *idTokenHint
	client      *storage.Client
	redirectURI string
	state       string
	params      url.Values
}

// serveLogout is the end-session endpoint (OIDC RP-Initiated Logout 1.0
// §2): it validates the request, asks the user to confirm unless the RP
// proved itself with an id_token_hint for the signed-in user, ends the OP
// session and the host's, then redirects to the registered
// post_logout_redirect_uri with state or shows a signed-out page.
func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	params, err := s.authorizeParams(w, r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	lr, err := s.parseLogout(r, params)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	current, err := s.cfg.Login.Session(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	confirmed := r.Method == http.MethodPost && params.Get("confirm") == "yes"
	if confirmed && !s.logoutCSRF(r, params.Get("csrf")) {
		s.errorPage(w, r, oauth.ErrAccessDenied.WithDescription("invalid form token"))
		return
	}
	signedIn := current != nil && current.UserID != ""
	fromRP := lr.hint != nil && (!signedIn || current.UserID == lr.hint.subject)
	if !confirmed && !fromRP {
		s.showLogoutConfirm(w, lr)
		return
	}
	if err := s.endBrowserSession(w, r, current); err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: logoutCSRFCookie, Path: s.endpoints.logout, MaxAge: -1, HttpOnly: true, Secure: s.endpoints.secure, SameSite: http.SameSiteLaxMode})
	if lr.redirectURI == "" {
		pageHeaders(w, "'none'")
		_ = logoutPages.ExecuteTemplate(w, "signed_out", nil)
		return
	}
	u, _ := url.Parse(lr.redirectURI) // validated at registration
	if lr.state != "" {
		q := u.Query()
		q.Set("state", lr.state)
		u.RawQuery = q.Encode()
	}
	noStore(w)
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// parseLogout validates the end-session parameters: a verified
// id_token_hint, a client_id that agrees with it, a
// post_logout_redirect_uri registered for the client exactly, state
// bounded like /authorize's.
func (s *Server) parseLogout(r *http.Request, params url.Values) (*logoutRequest, error) {
	if err := s.checkParamSizes(params, "client_id", "post_logout_redirect_uri", "state", "csrf", "confirm", "ui_locales", "logout_hint"); err != nil {
		return nil, err
	}
	lr := &logoutRequest{state: params.Get("state"), redirectURI: params.Get("post_logout_redirect_uri"), params: params}
	clientID := params.Get("client_id")
	if raw := params.Get("id_token_hint"); raw != "" {
		if len(raw) > maxTokenBytes {
			return nil, oauth.ErrInvalidRequest.WithDescription("invalid id_token_hint")
		}
		hint, err := s.verifyIDTokenHint(r.Context(), raw)
		if err != nil {
			return nil, err
		}
		if clientID != "" && clientID != hint.clientID {
			return nil, oauth.ErrInvalidRequest.WithDescription("client_id does not match the id_token_hint")
		}
		lr.hint, clientID = hint, hint.clientID
	}
	if clientID != "" {
		if !storage.ValidID(clientID) {
			return nil, oauth.ErrInvalidRequest.WithDescription("unknown client")
		}
		c, err := s.store.Clients().Get(r.Context(), clientID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, oauth.ErrInvalidRequest.WithDescription("unknown client")
		}
		if err != nil {
			return nil, err
		}
		lr.client = c
	}
	if lr.redirectURI != "" && (lr.client == nil || !slices.Contains(lr.client.PostLogoutRedirectURIs, lr.redirectURI)) {
		return nil, oauth.ErrInvalidRequest.WithDescription("post_logout_redirect_uri is not registered for the client")
	}
	return lr, nil
}

// endBrowserSession ends the browser's OP session (with its back-channel
// logouts and revocations), clears the cookie, and calls the host's
// sign-out for the session's user, or the host's current user.
func (s *Server) endBrowserSession(w http.ResponseWriter, r *http.Request, current *Session) error {
	userID := ""
	if current != nil {
		userID = current.UserID
	}
	if c, err := r.Cookie(sessionCookie); err == nil && len(c.Value) > 0 && len(c.Value) <= 128 {
		sess, err := s.store.DeleteSession(r.Context(), sessionID(c.Value))
		switch {
		case err == nil:
			userID = sess.UserID
			if err := s.sessionEnded(r.Context(), sess); err != nil {
				return err
			}
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
		http.SetCookie(w, s.sessionCookie("", -1))
	}
	if lo, ok := s.cfg.Login.(Logout); ok && userID != "" {
		lo.EndSession(w, r, userID)
	}
	return nil
}

// logoutCSRF checks the confirmation form's token against its cookie.
func (s *Server) logoutCSRF(r *http.Request, field string) bool {
	c, err := r.Cookie(logoutCSRFCookie)
	return err == nil && len(c.Value) >= 32 && subtle.ConstantTimeCompare([]byte(c.Value), []byte(field)) == 1
}

// showLogoutConfirm asks the user to confirm the sign-out: a CSRF-protected
// form posting the request back to the endpoint.
func (s *Server) showLogoutConfirm(w http.ResponseWriter, lr *logoutRequest) {
	csrf := token.Random(32)
	http.SetCookie(w, &http.Cookie{Name: logoutCSRFCookie, Value: csrf, Path: s.endpoints.logout, MaxAge: 600, HttpOnly: true, Secure: s.endpoints.secure, SameSite: http.SameSiteLaxMode})
	fields := map[string]string{"csrf": csrf, "confirm": "yes"}
	for _, k := range []string{"id_token_hint", "client_id", "post_logout_redirect_uri", "state"} {
		if v := lr.params.Get(k); v != "" {
			fields[k] = v
		}
	}
	action := "'self'"
	if lr.redirectURI != "" {
		action += " " + formActionSource(lr.redirectURI)
	}
	pageHeaders(w, action)
	name := ""
	if lr.client != nil {
		name = lr.client.Name
		if name == "" {
			name = lr.client.ID
		}
	}
	_ = logoutPages.ExecuteTemplate(w, "confirm", map[string]any{"Action": s.endpoints.url(s.endpoints.logout), "Fields": fields, "Client": name})
}

var logoutPages = template.Must(template.New("confirm").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign out</title></head>
<body><h1>Sign out?</h1>{{if .Client}}<p>{{.Client}} asks to sign you out.</p>{{end}}
<form method="post" action="{{.Action}}">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<button type="submit">Sign out</button></form></body></html>
{{define "signed_out"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head>
<body><h1>You are signed out</h1></body></html>
{{end}}`))
