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
	// Domain is the host of the redirect URI the answer goes to, the
	// application's domain as the user can check it; empty for a native
	// app's custom scheme.
	Domain string
	// APIName names the API, empty for a sign-in without API access.
	APIName string
	// User is the signed-in user.
	User *storage.User
	// Scopes are the scopes to grant, each with its description.
	Scopes []ConsentScope
	// Action is the URL the form posts to.
	Action string
	// Fields are the hidden form fields (request handle, client id and CSRF
	// token, the token bound to User: the POST is refused if another user
	// is signed in by then).
	Fields map[string]string
	// SwitchAccountURL signs the user out and back in as someone else,
	// then returns to this request: from Config.Login when it implements
	// SwitchAccount, else empty.
	SwitchAccountURL string
	// Lang is the page's language tag, negotiated from Accept-Language;
	// Messages its catalogue, complete; Text the built-in page's sentences
	// in it, by message id without the "consent." prefix, placeholders
	// filled.
	Lang     string
	Messages Messages
	Text     map[string]string
}

// ConsentScope is one line of the consent page.
type ConsentScope struct {
	// Name is the scope value, the value of its "scope" form field.
	// Description is the API's (or OIDC's) description of it, for people.
	Name, Description string
	// Required scopes (openid) are not optional: the user consents to the
	// sign-in itself by allowing.
	Required bool
	// Checked is whether the box starts ticked: every scope, but those the
	// user unticked before (not in the stored consent for this client and
	// API) stay unticked.
	Checked bool
}

// SwitchAccount is an optional interface of Config.Login: a host that
// implements it gets a "Not you?" link on the consent page. It returns
// the URL that signs the current user out and starts a sign-in that ends
// at returnTo (this server's resume URL, to be checked as Challenge's
// is), or "" for no link.
type SwitchAccount interface {
	SwitchAccountURL(r *http.Request, returnTo string) string
}

var consentTemplate = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Text.title}}</title><style>` + pageCSS + `</style></head>
<body><main id="page"><h1>{{.Text.heading}}</h1>
{{if .Domain}}<p class="muted" id="domain">{{.Text.domain}}</p>
{{end}}<p>{{.Text.signed_in}}{{if .SwitchAccountURL}} <a id="not-you" href="{{.SwitchAccountURL}}">{{.Text.not_you}}</a>{{end}}</p>
{{if .APIName}}<p>{{.Text.api}}</p>
{{end}}<form method="post" action="{{.Action}}">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<fieldset><legend>{{.Text.scopes}}</legend>
{{range .Scopes}}<label><input type="checkbox" name="scope" value="{{.Name}}"{{if .Checked}} checked{{end}}{{if .Required}} disabled{{end}}>
<span class="scope">{{if .Description}}{{.Description}}{{else}}{{.Name}}{{end}}{{if .Required}} <span class="muted">({{$.Text.required}})</span>{{end}}<br><code>{{.Name}}</code></span></label>
{{end}}</fieldset>
<div class="actions"><button class="primary" type="submit" name="decision" value="allow">{{.Text.allow}}</button>
<button type="submit" name="decision" value="deny">{{.Text.deny}}</button></div>
</form><p class="muted" id="withdraw">{{.Text.withdraw}}</p></main></body></html>`))

// consentTexts are the message ids of the built-in consent page.
var consentTexts = []string{"title", "heading", "domain", "signed_in", "not_you", "api", "scopes", "required", "allow", "deny", "withdraw"}

// showConsent renders the consent page for the candidate scopes.
func (s *Server) showConsent(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, client *storage.Client, api *storage.API, user *storage.User, candidates []string) {
	action, formAction := s.endpoints.url(s.endpoints.consent), "'self' "+formActionSource(ar.RedirectURI)
	if isDeviceRequest(ar) {
		action, formAction = s.endpoints.url(s.endpoints.deviceConsent), "'self'"
	}
	p := &ConsentPrompt{
		ClientID: client.ID, ClientName: clientName(client.ID, client.Name), User: user,
		Domain: redirectDomain(ar.RedirectURI),
		Action: action,
		Fields: map[string]string{"id": ar.ID, "client_id": client.ID, "csrf": consentToken(ar, user.ID)},
	}
	if api != nil {
		p.APIName = api.Name
	}
	if sw, ok := s.cfg.Login.(SwitchAccount); ok && !isDeviceRequest(ar) {
		p.SwitchAccountURL = sw.SwitchAccountURL(r, s.resumeURL(ar))
	}
	// A stored consent that lacks a scope offered now means the user
	// unticked it last time (or it is new): it starts unticked.
	var before []string
	stored, err := s.store.Consents().Get(r.Context(), storage.JoinKey(user.ID, client.ID, s.consentAudience(ar.Audience)))
	if err == nil {
		before = stored.Scopes
	}
	for _, sc := range candidates {
		cs := ConsentScope{Name: sc, Description: identityScopes[sc], Required: sc == oauth.ScopeOpenID}
		cs.Checked = cs.Required || stored == nil || contains(before, sc)
		if api != nil {
			for _, d := range api.Scopes {
				if d.Name == sc && cs.Description == "" {
					cs.Description = d.Description
				}
			}
		}
		p.Scopes = append(p.Scopes, cs)
	}
	p.Lang, p.Messages = s.pageLanguage(r)
	userName := user.ID
	if user.Email != "" {
		userName = user.Email
	}
	args := []string{"{app}", p.ClientName, "{domain}", p.Domain, "{user}", userName, "{api}", p.APIName}
	p.Text = make(map[string]string, len(consentTexts))
	for _, id := range consentTexts {
		p.Text[id] = p.Messages.text("consent."+id, args...)
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

// resumeURL is where the host's sign-in returns to continue ar. It
// carries the client id too, so that the error page of a request expired
// meanwhile can link to the client's initiate_login_uri.
func (s *Server) resumeURL(ar *storage.AuthRequest) string {
	return s.endpoints.url(s.endpoints.resume) + "?" + url.Values{"id": {ar.ID}, "client_id": {ar.ClientID}}.Encode()
}

// redirectDomain is the host of a redirect URI, "" when it has none.
func redirectDomain(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return u.Hostname()
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

// readConsentForm reads a posted consent form, of /authorize (device
// false) or of a device verification (device true): bounded, bound to the
// browser that started the request, of that kind of request, from the
// signed-in user, with the form token made for that user and request. On
// failure it has answered with the error page.
func (s *Server) readConsentForm(w http.ResponseWriter, r *http.Request, device bool) (url.Values, *storage.AuthRequest, *Session, bool) {
	if r.Method != http.MethodPost {
		s.errorPage(w, r, oauth.ErrInvalidRequest.WithDescription("the consent form is posted"))
		return nil, nil, nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, oauth.ErrInvalidRequest.WithDescription("malformed form"))
		return nil, nil, nil, false
	}
	form := r.PostForm
	ar, err := s.boundRequest(r, form.Get("id"), "")
	if err == nil && isDeviceRequest(ar) != device {
		err = oauth.ErrInvalidRequest.WithDescription(unknownRequest)
	}
	if err != nil {
		s.errorPage(w, r, err)
		return nil, nil, nil, false
	}
	sess, err := s.cfg.Login.Session(r)
	if err != nil || sess == nil || sess.UserID == "" {
		s.errorPage(w, r, oauth.ErrAccessDenied.WithDescription("not signed in"))
		return nil, nil, nil, false
	}
	// The token was made for the user shown the page: another user signed
	// in since (or a forged form) does not match.
	if subtle.ConstantTimeCompare([]byte(form.Get("csrf")), []byte(consentToken(ar, sess.UserID))) != 1 {
		s.errorPage(w, r, oauth.ErrAccessDenied.WithDescription("invalid form token, or the signed-in user is not the one who was asked"))
		return nil, nil, nil, false
	}
	return form, ar, sess, true
}

// serveConsent takes the consent form: the user allows the ticked scopes
// (never more than were offered) or denies.
func (s *Server) serveConsent(w http.ResponseWriter, r *http.Request) {
	form, ar, sess, ok := s.readConsentForm(w, r, false)
	if !ok {
		return
	}
	ctx := r.Context()
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
