package authz

import (
	"context"
	"crypto/subtle"
	"errors"
	"html/template"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// Guessing user codes is bounded (RFC 8628 §5.1): a lookup that finds no
// code counts as a failure for the source address and for the tenant, for
// userCodeWindow; past the limits the page looks nothing up. A lookup that
// succeeds does not count.
const (
	userCodeWindow      = 15 * time.Minute
	userCodeSourceLimit = 10
	userCodeGlobalLimit = 1000
)

// deviceFormCookie holds the anti-forgery token of the code-entry form.
const deviceFormCookie = "sk_device"

var devicePages = template.Must(template.New("entry").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Connect a device</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
input{font-size:1.4rem;letter-spacing:.2rem;text-transform:uppercase}</style></head>
<body><h1>Connect a device</h1>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label>Code shown on your device<br><input name="user_code" id="user_code" value="{{.UserCode}}" autocomplete="off" autofocus maxlength="32"></label>
<p><button type="submit">Continue</button></p>
</form></body></html>
{{define "done"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.}}</title></head>
<body><h1 id="result">{{.}}</h1><p>You may close this page and return to your device.</p></body></html>
{{end}}`))

// isDeviceRequest reports whether a pending request belongs to the
// verification page rather than to /authorize.
func isDeviceRequest(ar *storage.AuthRequest) bool { return ar.ResponseType == oauth.GrantDeviceCode }

// serveDevicePage is the verification page (RFC 8628 §3.3): GET shows the
// code-entry form (prefilled from verification_uri_complete, never
// submitted for the user, §5.4); POST looks the code up and continues with
// the sign-in and the consent page.
func (s *Server) serveDevicePage(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		uc, _ := normalizeUserCode(r.URL.Query().Get("user_code"))
		if uc != "" {
			uc = formatUserCode(uc)
		}
		s.entryPage(w, http.StatusOK, uc, "")
	case http.MethodPost:
		s.enterUserCode(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		s.errorPage(w, r, oauth.ErrInvalidRequest.WithDescription("the page accepts GET and POST only"))
	}
}

// entryPage renders the code-entry form with a fresh anti-forgery token.
func (s *Server) entryPage(w http.ResponseWriter, status int, userCode, msg string) {
	csrf := token.Random(24)
	http.SetCookie(w, &http.Cookie{Name: deviceFormCookie, Value: csrf, Path: s.endpoints.device, MaxAge: int(userCodeWindow / time.Second),
		HttpOnly: true, Secure: s.endpoints.secure, SameSite: http.SameSiteStrictMode})
	pageHeaders(w, "'self'")
	w.WriteHeader(status)
	_ = devicePages.Execute(w, map[string]string{"Action": s.endpoints.url(s.endpoints.device), "CSRF": csrf, "UserCode": userCode, "Error": msg})
}

// enterUserCode takes the code-entry form.
func (s *Server) enterUserCode(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, oauth.ErrInvalidRequest.WithDescription("malformed form"))
		return
	}
	c, err := r.Cookie(deviceFormCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get("csrf"))) != 1 {
		s.entryPage(w, http.StatusForbidden, "", "The form expired. Enter the code again.")
		return
	}
	uc, ok := normalizeUserCode(r.PostForm.Get("user_code"))
	if !ok {
		s.entryPage(w, http.StatusBadRequest, "", "That is not a code of this service: 8 letters, as XXXX-XXXX.")
		return
	}
	ctx := r.Context()
	d, err := s.lookUpUserCode(ctx, r, uc)
	switch {
	case errors.Is(err, errTooManyGuesses):
		s.entryPage(w, http.StatusTooManyRequests, "", "Too many wrong codes. Wait a few minutes and try again.")
		return
	case errors.Is(err, storage.ErrNotFound):
		s.entryPage(w, http.StatusBadRequest, "", "Unknown or expired code. Check the code on your device.")
		return
	case err != nil:
		s.errorPage(w, r, err)
		return
	}
	if d.Status != storage.DevicePending {
		s.entryPage(w, http.StatusBadRequest, "", "This code was already used.")
		return
	}
	now := s.cfg.Now()
	ar := &storage.AuthRequest{
		ID: token.Random(24), ClientID: d.ClientID, ResponseType: oauth.GrantDeviceCode, Scopes: d.RequestedScopes,
		Audience: d.Audience, CSRF: token.Random(24), Extra: map[string]string{"user_code": d.UserCode},
		CreatedAt: now.UTC(), ExpiresAt: now.Add(s.cfg.AuthRequestLifetime).UTC(),
	}
	if d.ExpiresAt.Before(ar.ExpiresAt) {
		ar.ExpiresAt = d.ExpiresAt
	}
	if err := s.store.CreateAuthRequest(ctx, ar); err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.SetCookie(w, s.bindingCookie(ar))
	s.proceedDevice(w, r, ar)
}

// errTooManyGuesses is a user-code lookup refused by the guessing limits.
var errTooManyGuesses = errors.New("authz: too many wrong user codes")

// lookUpUserCode finds the pending device code of a normalised user code
// within the guessing limits. The attempt is counted before the lookup
// (so concurrent guesses cannot pass the limits together) and forgotten
// when the code is found or the attempt refused.
func (s *Server) lookUpUserCode(ctx context.Context, r *http.Request, uc string) (*storage.DeviceCode, error) {
	id := token.Random(12)
	keys := []string{"ip:" + sourceOf(r), "all"}
	limits := []int64{userCodeSourceLimit, userCodeGlobalLimit}
	counted := 0
	forget := func() {
		for _, k := range keys[:counted] {
			_ = s.store.ForgetAttempt(ctx, k, id) // best effort: it expires anyway
		}
	}
	for i, k := range keys {
		n, err := s.store.CountAttempt(ctx, k, id, userCodeWindow)
		if err != nil {
			forget()
			return nil, err
		}
		counted++
		if n > limits[i] {
			forget()
			return nil, errTooManyGuesses
		}
	}
	d, err := s.store.GetDeviceCode(ctx, userCodeKey(uc))
	if err == nil {
		forget()
	}
	return d, err
}

// sourceOf is the guessing-limit key of the request's source: its address,
// an IPv6 one by its /64 (what one subscriber gets). Behind a proxy the
// host sets r.RemoteAddr to the client's address (docs/DEVICE.md).
func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "unknown"
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// serveDeviceResume continues a verification after the host's sign-in.
func (s *Server) serveDeviceResume(w http.ResponseWriter, r *http.Request) {
	ar, err := s.boundRequest(r, r.URL.Query().Get("id"), "")
	if err == nil && !isDeviceRequest(ar) {
		err = oauth.ErrInvalidRequest.WithDescription("unknown or expired authorization request")
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.proceedDevice(w, r, ar)
}

// proceedDevice signs the user in through the host and shows the consent
// page, always: the user confirms the device, whatever the client (RFC
// 8628 §5.4), and the scopes are decided as at /authorize.
func (s *Server) proceedDevice(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest) {
	ctx := r.Context()
	sess, err := s.cfg.Login.Session(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if sess == nil || sess.UserID == "" {
		s.cfg.Login.Challenge(w, r, s.endpoints.url(s.endpoints.deviceResume)+"?id="+url.QueryEscape(ar.ID))
		return
	}
	client, api, user, err := s.deviceParties(ctx, ar, sess)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	candidates, _, err := s.userScopes(ctx, client, api, user, ar.Scopes)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.showConsent(w, r, ar, client, api, user, candidates)
}

// deviceParties reloads the client and API of a verification and the
// signed-in user.
func (s *Server) deviceParties(ctx context.Context, ar *storage.AuthRequest, sess *Session) (*storage.Client, *storage.API, *storage.User, error) {
	client, api, err := s.requestParties(ctx, ar)
	if err != nil {
		return nil, nil, nil, err
	}
	user, err := s.store.Users().Get(ctx, sess.UserID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && !storage.ValidUserID(user.ID) {
		return nil, nil, nil, oauth.ErrAccessDenied.WithDescription("unknown user")
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return client, api, user, nil
}

// serveDeviceConsent takes the consent form of a verification: the user
// approves the ticked scopes (never more than offered) or denies, once.
func (s *Server) serveDeviceConsent(w http.ResponseWriter, r *http.Request) {
	form, ar, sess, ok := s.readConsentForm(w, r, true)
	if !ok {
		return
	}
	ctx := r.Context()
	if form.Get("decision") != "allow" {
		s.decideDevice(w, r, ar, nil, nil)
		return
	}
	client, api, user, err := s.deviceParties(ctx, ar, sess)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	offered, _, err := s.userScopes(ctx, client, api, user, ar.Scopes)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	scopes := tickedScopes(form, offered)
	d := &Decision{Trigger: TriggerLogin, GrantType: oauth.GrantDeviceCode, Subject: user.ID, User: user, API: api,
		RequestedScopes: ar.Scopes, Scopes: scopes, AuthTime: sess.AuthTime}
	if !skipsConsent(ar, client, api) {
		d.ConsentedScopes = append([]string{}, scopes...)
	}
	if err := s.applyRules(ctx, client, d); err != nil {
		if errors.Is(err, oauth.ErrAccessDenied) {
			// A rule refused: the device learns it as a denial.
			s.decideDevice(w, r, ar, nil, err)
			return
		}
		s.errorPage(w, r, err)
		return
	}
	g := &storage.DeviceGrant{Subject: user.ID, Scopes: d.Scopes, AuthTime: sess.AuthTime.UTC(), Family: token.Random(16),
		IDTokenClaims: d.Claims, AccessTokenClaims: d.AccessClaims}
	if !s.decideDevice(w, r, ar, g, nil) {
		return
	}
	if err := s.recordConsent(r, user.ID, client.ID, s.consentAudience(ar.Audience), scopes); err != nil {
		s.errorPage(w, r, err)
		return
	}
	pageHeaders(w, "'none'")
	_ = devicePages.ExecuteTemplate(w, "done", "Device connected")
}

// decideDevice takes the pending request (once) and records the decision on
// its device code: approved with g, denied when g is nil (then the page
// answers, with refusal as the reason when set). It reports whether an
// approval was recorded; otherwise it has answered.
func (s *Server) decideDevice(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, g *storage.DeviceGrant, refusal error) bool {
	ctx := r.Context()
	if _, err := s.store.TakeAuthRequest(ctx, ar.ID); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			err = oauth.ErrInvalidRequest.WithDescription("the authorization request was already completed")
		}
		s.errorPage(w, r, err)
		return false
	}
	// The record is kept as created (past its expiry, to answer
	// expired_token, or a second take with invalid_grant).
	err := s.store.DecideDeviceCode(ctx, ar.Extra["user_code"], g, time.Time{})
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrAlreadyUsed):
		s.errorPage(w, r, oauth.ErrInvalidRequest.WithDescription("the code expired or was already used"))
		return false
	case err != nil:
		s.errorPage(w, r, err)
		return false
	}
	if g != nil {
		return true
	}
	if refusal != nil {
		s.errorPage(w, r, refusal)
		return false
	}
	pageHeaders(w, "'none'")
	_ = devicePages.ExecuteTemplate(w, "done", "Request denied")
	return false
}
