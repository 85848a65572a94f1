package authz

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// ConsentPage renders the consent page in the host's own design. It must
// answer with an HTML form that POSTs Prompt.Action with every field of
// Prompt.Fields, one "scope" field per scope the user keeps ticked, and
// "decision" set to "allow" or "deny". The page must not be frameable.
type ConsentPage func(w http.ResponseWriter, r *http.Request, p *ConsentPrompt)

// ConsentPrompt is what the consent page shows.
type ConsentPrompt struct {
	// ClientID and ClientName name the application asking.
	ClientID, ClientName string
	// APIName names the API, empty for a sign-in without API access.
	APIName string
	// User is the signed-in user.
	User *storage.User
	// Scopes are the scopes to grant, each with its description.
	Scopes []ConsentScope
	// Action is the URL the form posts to.
	Action string
	// Fields are the hidden form fields (request handle and CSRF token, the
	// token bound to User: the POST is refused if another user is signed in
	// by then).
	Fields map[string]string
}

// ConsentScope is one line of the consent page.
type ConsentScope struct {
	// Name is the scope value, the value of its "scope" form field.
	// Description is the API's (or OIDC's) description of it, for people.
	Name, Description string
	// Required scopes (openid) are not optional: the user consents to the
	// sign-in itself by allowing.
	Required bool
}

var consentTemplate = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Authorize {{.ClientName}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
li{list-style:none;margin:.5rem 0}button{margin-right:.5rem;padding:.4rem 1rem}</style></head>
<body><h1>{{.ClientName}} wants to access your account</h1>
<p>Signed in as <strong>{{with .User}}{{if .Email}}{{.Email}}{{else}}{{.ID}}{{end}}{{end}}</strong>{{if .APIName}}. Access requested to <strong>{{.APIName}}</strong>{{end}}:</p>
<form method="post" action="{{.Action}}">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<ul>{{range .Scopes}}<li><label><input type="checkbox" name="scope" value="{{.Name}}" checked{{if .Required}} disabled{{end}}>
<code>{{.Name}}</code> {{.Description}}</label></li>
{{end}}</ul>
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></body></html>`))

// showConsent renders the consent page for the candidate scopes.
func (s *Server) showConsent(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, client *storage.Client, api *storage.API, user *storage.User, candidates []string) {
	action, formAction := s.endpoints.url(s.endpoints.consent), "'self' "+formActionSource(ar.RedirectURI)
	if isDeviceRequest(ar) {
		action, formAction = s.endpoints.url(s.endpoints.deviceConsent), "'self'"
	}
	p := &ConsentPrompt{
		ClientID: client.ID, ClientName: client.Name, User: user,
		Action: action,
		Fields: map[string]string{"id": ar.ID, "csrf": consentToken(ar, user.ID)},
	}
	if p.ClientName == "" {
		p.ClientName = client.ID
	}
	if api != nil {
		p.APIName = api.Name
	}
	for _, sc := range candidates {
		cs := ConsentScope{Name: sc, Description: identityScopes[sc], Required: sc == oauth.ScopeOpenID}
		if api != nil {
			for _, d := range api.Scopes {
				if d.Name == sc && cs.Description == "" {
					cs.Description = d.Description
				}
			}
		}
		p.Scopes = append(p.Scopes, cs)
	}
	// The form posts here and the answer is a redirect to the client, which
	// browsers check against form-action too: allow both origins.
	pageHeaders(w, formAction)
	if s.cfg.ConsentPage != nil {
		s.cfg.ConsentPage(w, r, p)
		return
	}
	_ = consentTemplate.Execute(w, p)
}

// consentToken is the CSRF token of the consent form shown to userID: a MAC
// of the user id under the request's secret (the browser-binding cookie's
// value). It binds the form to the browser that started the request, to the
// request, and to the user who was shown the page, so a submission by
// anyone else signed in on that browser since then is refused.
func consentToken(ar *storage.AuthRequest, userID string) string {
	m := hmac.New(sha256.New, []byte(ar.CSRF))
	m.Write([]byte("consent\x00" + ar.ID + "\x00" + userID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// serveConsent takes the consent form: the user allows the ticked scopes
// (never more than were offered) or denies.
func (s *Server) serveConsent(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.errorPage(w, oauth.ErrInvalidRequest.WithDescription("the consent form is posted"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, oauth.ErrInvalidRequest.WithDescription("malformed form"))
		return
	}
	form := r.PostForm
	ar, err := s.boundRequest(r, form.Get("id"), "")
	if err != nil {
		s.errorPage(w, err)
		return
	}
	ctx := r.Context()
	sess, err := s.cfg.Login.Session(r)
	if err != nil || sess == nil || sess.UserID == "" {
		s.errorPage(w, oauth.ErrAccessDenied.WithDescription("not signed in"))
		return
	}
	// The token was made for the user shown the page: another user signed
	// in since (or a forged form) does not match.
	if subtle.ConstantTimeCompare([]byte(form.Get("csrf")), []byte(consentToken(ar, sess.UserID))) != 1 {
		s.errorPage(w, oauth.ErrAccessDenied.WithDescription("invalid form token, or the signed-in user is not the one who was asked"))
		return
	}
	if form.Get("decision") != "allow" {
		if _, err := s.store.TakeAuthRequest(ctx, ar.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			s.redirectError(w, r, ar, err)
			return
		}
		s.redirectError(w, r, ar, oauth.ErrAccessDenied.WithDescription("the user denied the request"))
		return
	}
	client, api, err := s.requestParties(ctx, ar)
	if err != nil {
		s.redirectError(w, r, ar, err)
		return
	}
	user, err := s.store.Users().Get(ctx, sess.UserID)
	if err != nil {
		s.redirectError(w, r, ar, oauth.ErrAccessDenied.WithDescription("unknown user"))
		return
	}
	offered, _, err := s.userScopes(ctx, client, api, user, ar.Scopes)
	if err != nil {
		s.redirectError(w, r, ar, err)
		return
	}
	s.approve(w, r, ar, client, api, user, sess, tickedScopes(form, offered), true)
}

// tickedScopes keeps the offered scopes the form ticked, plus openid, which
// the consent itself grants.
func tickedScopes(form url.Values, offered []string) []string {
	ticked := form["scope"]
	out := make([]string, 0, len(offered))
	for _, sc := range offered {
		if sc == oauth.ScopeOpenID || contains(ticked, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// recordConsent adds the scopes to the user's stored consent for the client
// and audience. The scopes are merged into the consent as stored at the
// time of the write, so concurrent consents for other scopes all survive.
func (s *Server) recordConsent(r *http.Request, userID, clientID, audience string, scopes []string) error {
	now := s.cfg.Now().UTC()
	return s.consented(r.Context(), userID, clientID, audience, scopes, revise(r.Context(), s.store.Consents(), storage.JoinKey(userID, clientID, audience),
		func() *storage.Consent {
			return &storage.Consent{UserID: userID, ClientID: clientID, Audience: audience}
		},
		func(c *storage.Consent) error {
			for _, sc := range scopes {
				if sc != oauth.ScopeOpenID && !contains(c.Scopes, sc) {
					c.Scopes = append(c.Scopes, sc)
				}
			}
			c.GrantedAt = now
			return nil
		}))
}

// consentAudience is the audience a consent is recorded for: the API, or
// the userinfo endpoint for a sign-in without API access.
func (s *Server) consentAudience(aud string) string {
	if aud == "" {
		return s.endpoints.url(s.endpoints.userinfo)
	}
	return aud
}

// Consents lists the consents a user has given, one per client and API, in
// key order: at most storage.MaxAll of them (storage.ErrTooMany beyond).
func (s *Server) Consents(ctx context.Context, userID string) ([]*storage.Consent, error) {
	return storage.All(ctx, s.store.Consents(), storage.JoinKey(userID, ""))
}

// RevokeConsent withdraws a user's consent to a client for an API (the
// userinfo endpoint's URL, as Consents lists it, for a sign-in without an
// API): the next authorization asks again, and the grant's token families
// are revoked, so its refresh tokens fail with invalid_grant and its access
// tokens stop at Authorize and introspection. The families are revoked even
// when no consent is stored (the error is then storage.ErrNotFound), so a
// call that failed half-way can be repeated.
func (s *Server) RevokeConsent(ctx context.Context, userID, clientID, audience string) error {
	err := s.store.Consents().Delete(ctx, storage.JoinKey(userID, clientID, audience))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	familyAudience := audience
	if audience == s.consentAudience("") {
		familyAudience = ""
	}
	if rerr := s.revokeFamilies(ctx, userID, func(f *storage.Family) bool {
		return f.ClientID == clientID && f.Audience == familyAudience
	}); rerr != nil {
		return rerr
	}
	s.consentEvent(ctx, consentRevoked, userID, clientID, audience, nil)
	return err
}
