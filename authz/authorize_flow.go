package authz

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// serveAuthorize is the authorization endpoint (RFC 6749 §3.1).
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	params, err := s.authorizeParams(w, r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	// RFC 9126 §4: with a request_uri, only the pushed parameters count;
	// any other parameter sent alongside is ignored (RFC 9101 §5).
	pushed := params.Has("request_uri")
	if pushed {
		if params, err = s.takePushed(r.Context(), params); err != nil {
			s.errorPage(w, r, err)
			return
		}
	}
	ar, client, api, err := s.parseAuthorize(r.Context(), params)
	var pe *pageError
	switch {
	case errors.As(err, &pe):
		s.errorPage(w, r, pe.err)
		return
	case err != nil:
		s.redirectError(w, r, ar, err)
		return
	case !pushed && s.requirePushed(client):
		s.redirectError(w, r, ar, oauth.ErrInvalidRequest.WithDescription("authorization requests of this client must be pushed (RFC 9126 §5)"))
		return
	}
	if err := s.store.CreateAuthRequest(r.Context(), ar); err != nil {
		s.redirectError(w, r, ar, err)
		return
	}
	http.SetCookie(w, s.bindingCookie(ar))
	s.proceed(w, r, ar, client, api)
}

// bindingCookie ties a pending request to the browser that started it, so a
// request handle sent to another browser cannot be completed there.
func (s *Server) bindingCookie(ar *storage.AuthRequest) *http.Cookie {
	return &http.Cookie{
		Name:     "sk_" + ar.ID[:12],
		Value:    ar.CSRF,
		Path:     bindingPath(s.endpoints, ar),
		MaxAge:   max(1, int(ar.ExpiresAt.Sub(s.cfg.Now())/time.Second)),
		HttpOnly: true,
		Secure:   s.endpoints.secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// bindingPath is the path the binding cookie is sent to: /authorize, or
// the verification page for a device code's request.
func bindingPath(e endpoints, ar *storage.AuthRequest) string {
	if isDeviceRequest(ar) {
		return e.device
	}
	return e.path + "/authorize"
}

// boundRequest loads a pending request and checks that this browser started
// it and, when csrf is not empty, that the form carries its CSRF token.
func (s *Server) boundRequest(r *http.Request, id, csrf string) (*storage.AuthRequest, error) {
	if len(id) < 12 {
		return nil, oauth.ErrInvalidRequest.WithDescription(unknownRequest)
	}
	ar, err := s.store.GetAuthRequest(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) || err == nil && ar.ResponseType == pushedRequestType {
		return nil, oauth.ErrInvalidRequest.WithDescription(unknownRequest)
	}
	if err != nil {
		return nil, err
	}
	c, err := r.Cookie("sk_" + id[:12])
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(ar.CSRF)) != 1 {
		return nil, oauth.ErrAccessDenied.WithDescription("the authorization request was started in another browser")
	}
	if csrf != "" && subtle.ConstantTimeCompare([]byte(csrf), []byte(ar.CSRF)) != 1 {
		return nil, oauth.ErrAccessDenied.WithDescription("invalid form token")
	}
	return ar, nil
}

// serveResume continues a pending request after the host's sign-in.
func (s *Server) serveResume(w http.ResponseWriter, r *http.Request) {
	ar, err := s.boundRequest(r, r.URL.Query().Get("id"), "")
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	client, api, err := s.requestParties(r.Context(), ar)
	if err != nil {
		s.redirectError(w, r, ar, err)
		return
	}
	s.proceed(w, r, ar, client, api)
}

// requestParties reloads the client and API of a stored request.
func (s *Server) requestParties(ctx context.Context, ar *storage.AuthRequest) (*storage.Client, *storage.API, error) {
	client, err := s.store.Clients().Get(ctx, ar.ClientID)
	if err != nil {
		return nil, nil, err
	}
	if ar.Audience == "" {
		return client, nil, nil
	}
	api, err := s.store.APIs().Get(ctx, ar.Audience)
	if err != nil {
		return nil, nil, err
	}
	return client, api, nil
}

// proceed signs the user in (through the host), decides the scopes, asks
// for consent when needed, and answers.
func (s *Server) proceed(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, client *storage.Client, api *storage.API) {
	ctx := r.Context()
	none := contains(ar.Prompt, "none")
	sess, err := s.cfg.Login.Session(r)
	if err != nil {
		s.redirectError(w, r, ar, err)
		return
	}
	if s.needsLogin(ar, sess) {
		s.loginRequired(ctx, ar, none)
		if none {
			s.redirectError(w, r, ar, oauth.ErrLoginRequired)
			return
		}
		s.cfg.Login.Challenge(w, r, s.resumeURL(ar))
		return
	}
	user, err := s.store.Users().Get(ctx, sess.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		s.redirectError(w, r, ar, oauth.ErrAccessDenied.WithDescription("unknown user"))
		return
	}
	if err != nil {
		s.redirectError(w, r, ar, err)
		return
	}
	if !storage.ValidUserID(user.ID) {
		s.redirectError(w, r, ar, oauth.ErrAccessDenied.WithDescription("the user id is not a valid subject"))
		return
	}
	candidates, _, err := s.userScopes(ctx, client, api, user, ar.Scopes)
	if err != nil {
		s.redirectError(w, r, ar, err)
		return
	}
	ask, err := s.needsConsent(ctx, ar, client, api, user, candidates)
	if err != nil {
		s.redirectError(w, r, ar, err)
		return
	}
	if ask {
		if none {
			s.redirectError(w, r, ar, oauth.ErrConsentRequired)
			return
		}
		s.showConsent(w, r, ar, client, api, user, candidates)
		return
	}
	s.approve(w, r, ar, client, api, user, sess, candidates, false)
}

// needsLogin reports whether the user must (re-)authenticate: nobody is
// signed in, or prompt=login / max_age asks for a sign-in newer than what
// the session has.
func (s *Server) needsLogin(ar *storage.AuthRequest, sess *Session) bool {
	if sess == nil || sess.UserID == "" {
		return true
	}
	if contains(ar.Prompt, "login") && sess.AuthTime.Before(ar.CreatedAt.Truncate(time.Second)) {
		return true
	}
	return ar.MaxAge > 0 && s.cfg.Now().Sub(sess.AuthTime) > time.Duration(ar.MaxAge)*time.Second
}

// needsConsent decides whether the consent page is shown: always with
// prompt=consent; never for a first-party client of an API that allows
// skipping it; always for any other public client, whose identity a
// redirect URI does not prove (RFC 8252 §8.6: another program on the device
// can claim the same loopback redirect); otherwise unless a stored consent
// covers every scope.
func (s *Server) needsConsent(ctx context.Context, ar *storage.AuthRequest, client *storage.Client, api *storage.API, user *storage.User, candidates []string) (bool, error) {
	if contains(ar.Prompt, "consent") {
		return true, nil
	}
	if skipsConsent(ar, client, api) {
		return false, nil
	}
	if client.Public {
		return true, nil
	}
	c, err := s.store.Consents().Get(ctx, storage.JoinKey(user.ID, client.ID, s.consentAudience(ar.Audience)))
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, sc := range candidates {
		if sc != oauth.ScopeOpenID && !contains(c.Scopes, sc) {
			return true, nil
		}
	}
	return false, nil
}

// skipsConsent reports whether consent does not apply to the request: a
// first-party client calling an API that allows skipping it, unless the
// client asked for prompt=consent.
func skipsConsent(ar *storage.AuthRequest, client *storage.Client, api *storage.API) bool {
	return !contains(ar.Prompt, "consent") && !consentApplies(client, api)
}

// consentApplies reports whether the user's consent governs what the client
// gets from the API: always, except for a first-party client of an API that
// allows skipping consent (or a sign-in without an API).
func consentApplies(client *storage.Client, api *storage.API) bool {
	return !client.FirstParty || api != nil && !api.AllowSkipConsent
}

// approve ends a request with the granted scopes: it takes the pending
// request (once: a second completion finds nothing), stores a single-use
// code bound to the client, redirect URI and PKCE challenge, and redirects.
// When consented is set the scopes were just allowed on the consent page:
// they are recorded as the user's consent only once the rules have passed
// and the request was taken, so a refused authorization stores nothing.
func (s *Server) approve(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, client *storage.Client, api *storage.API, user *storage.User, sess *Session, scopes []string, consented bool) {
	ctx := r.Context()
	d := &Decision{Trigger: TriggerLogin, GrantType: loginGrantType(ar.ResponseType), Subject: user.ID, User: user, API: api, RequestedScopes: ar.Scopes,
		Scopes: scopes, AuthTime: sess.AuthTime, Nonce: ar.Nonce}
	if !skipsConsent(ar, client, api) {
		// Never nil here, even when nothing was consented to: nil would
		// mean no consent limit.
		d.ConsentedScopes = append([]string{}, scopes...)
	}
	if err := s.applyRules(ctx, client, d); err != nil {
		s.redirectError(w, r, ar, err)
		return
	}
	if _, err := s.store.TakeAuthRequest(ctx, ar.ID); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			s.errorPage(w, r, oauth.ErrInvalidRequest.WithDescription("the authorization request was already completed"))
			return
		}
		s.redirectError(w, r, ar, err)
		return
	}
	if consented {
		if err := s.recordConsent(r, user.ID, client.ID, s.consentAudience(ar.Audience), scopes); err != nil {
			s.redirectError(w, r, ar, err)
			return
		}
	}
	now := s.cfg.Now()
	family := ""
	if !implicit(ar.ResponseType) {
		family = token.Random(16)
	}
	sid, err := s.joinSession(w, r, sess, client.ID, family)
	if err != nil {
		s.redirectError(w, r, ar, err)
		return
	}
	d.Claims = withClaim(d.Claims, "sid", sid)
	if implicit(ar.ResponseType) {
		s.respondImplicit(w, r, ar, client, d, now)
		return
	}
	code := token.Random(32)
	rec := &storage.AuthCode{
		Hash:                token.Hash(code),
		ClientID:            ar.ClientID,
		RedirectURI:         ar.RedirectURI,
		RedirectURIExplicit: ar.RedirectURIExplicit,
		Subject:             user.ID,
		Audience:            ar.Audience,
		RequestedScopes:     ar.Scopes,
		Scopes:              d.Scopes,
		Nonce:               ar.Nonce,
		CodeChallenge:       ar.CodeChallenge,
		CodeChallengeMethod: ar.CodeChallengeMethod,
		AuthTime:            sess.AuthTime.UTC(),
		Family:              family,
		IDTokenClaims:       d.Claims,
		AccessTokenClaims:   d.AccessClaims,
		ExpiresAt:           now.Add(s.cfg.CodeLifetime).UTC(),
	}
	rec.RetainUntil = s.codeRetention(rec, api).UTC()
	sealed, err := s.sealCode(ctx, code, rec)
	if err != nil {
		s.redirectError(w, r, ar, err)
		return
	}
	rec.Sealed = sealed
	if err := s.store.CreateCode(ctx, rec); err != nil {
		s.redirectError(w, r, ar, err)
		return
	}
	s.redirectResult(w, r, ar, url.Values{"code": {code}})
}
