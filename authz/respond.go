package authz

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// redirectResult sends the authorization response to the client's redirect
// URI in the request's response mode, with state echoed byte for byte and the
// issuer identified (RFC 9207 §2).
func (s *Server) redirectResult(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, params url.Values) {
	if !safeRedirectTarget(ar.RedirectURI) {
		s.errorPage(w, r, oauth.ErrInvalidRequest.WithDescription("the redirect URI is not a safe target"))
		return
	}
	if ar.State != "" {
		params.Set("state", ar.State)
	}
	params.Set("iss", s.cfg.Issuer)
	mode := ar.ResponseMode
	if mode == "" {
		mode = "query"
		if ar.ResponseType != "code" {
			mode = "fragment"
		}
	}
	noStore(w)
	switch mode {
	case "form_post":
		s.renderFormPost(w, ar.RedirectURI, params)
	case "fragment":
		http.Redirect(w, r, ar.RedirectURI+"#"+params.Encode(), http.StatusFound)
	default:
		u, err := url.Parse(ar.RedirectURI)
		if err != nil { // registered URIs are validated; this is a bug guard
			s.errorPage(w, r, oauth.ErrServerError)
			return
		}
		q := u.Query()
		for k, v := range params {
			q[k] = v
		}
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
}

// redirectError sends an error to the client's redirect URI
// (RFC 6749 §4.1.2.1).
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, err error) {
	e := s.fail(err)
	p := url.Values{"error": {e.Code}}
	if e.Description != "" {
		p.Set("error_description", e.Description)
	}
	s.redirectResult(w, r, ar, p)
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// pageHeaders forbids framing (clickjacking, RFC 9700 §4.16) and limits what
// a page may load.
func pageHeaders(w http.ResponseWriter, formAction string) {
	h := w.Header()
	noStore(w)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'; form-action "+formAction)
}

var pages = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title><style>` + pageCSS + `</style></head>
<body><main id="page"><h1>{{.Title}}</h1>
<p id="message">{{.Message}}</p>
{{if .StartURL}}<p><a id="start-again" class="button primary" href="{{.StartURL}}">{{.StartLabel}}</a></p>
{{else if .Next}}<p id="next">{{.Next}}</p>
{{end}}<small id="details">{{.DetailsLabel}} <code>{{.Code}}</code>{{if .Description}} — {{.Description}}{{end}}</small>
</main></body></html>
{{define "form_post"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Continue</title></head>
<body onload="document.forms[0].submit()"><form method="post" action="{{.Action}}">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<noscript><button type="submit">Continue</button></noscript></form></body></html>
{{end}}`))

// errorPage answers an authorization error that must not redirect, with
// Config.ErrorPage or the built-in page, in the language r negotiates.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	e := s.fail(err)
	p := s.errorPrompt(r, e)
	pageHeaders(w, "'none'")
	oauth.SetRetryAfter(w, e)
	if s.cfg.ErrorPage != nil {
		s.cfg.ErrorPage(w, r, p)
		return
	}
	w.WriteHeader(e.Status)
	_ = pages.Execute(w, p)
}

// formActionSource returns the CSP source expression that lets a form
// submission reach uri, its origin: a page whose form ends at the client's
// redirect URI (form_post, or the consent form whose answer is a redirect to
// it) must allow that origin in form-action, as browsers check every
// redirect of a form submission against the directive (CSP 3 §6.3.1).
// A URI with a custom scheme and no host (a native app's) gives the scheme
// source "scheme:". Characters that would end the source or the directive
// are dropped; the URI was validated as a registered redirect URI anyway.
func formActionSource(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return "'none'"
	}
	src := u.Scheme + ":"
	if u.Host != "" {
		src = u.Scheme + "://" + u.Host
	}
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == ';' || r == ',' || r == '\'' || r >= 0x7f {
			return -1
		}
		return r
	}, src)
}

// renderFormPost answers with a self-submitting form (OAuth 2.0 Form Post
// Response Mode).
func (s *Server) renderFormPost(w http.ResponseWriter, action string, params url.Values) {
	fields := make(map[string]string, len(params))
	for k := range params {
		fields[k] = params.Get(k)
	}
	pageHeaders(w, formActionSource(action))
	_ = pages.ExecuteTemplate(w, "form_post", map[string]any{"Action": action, "Fields": fields})
}
