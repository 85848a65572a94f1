package authz

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// ErrorPage renders the error page of the authorization endpoints (an
// error that cannot go back to the client: an unknown client or redirect
// URI, an expired request, a refused form) in the host's own design. The
// server has set the no-store, anti-framing and CSP headers (and
// Retry-After when apt) but not the status: the page must answer with
// p.Status. It must not be frameable, and must not load what the CSP
// forbids (inline styles are allowed, external assets are not).
type ErrorPage func(w http.ResponseWriter, r *http.Request, p *ErrorPrompt)

// ErrorPrompt is what the error page shows: a sentence that says what to
// do next, and the OAuth error code, small, for support.
type ErrorPrompt struct {
	// Code and Description are the OAuth error (RFC 6749 §4.1.2.1); Status
	// is the HTTP status to answer with.
	Code, Description string
	Status            int
	// Lang is the page's language tag, negotiated from Accept-Language;
	// Messages its catalogue, complete (see Messages).
	Lang     string
	Messages Messages
	// Title and Message are the heading and the sentence for the user, in
	// Lang; Next says what to do when there is no StartURL, empty when
	// Message says it already; DetailsLabel introduces the code.
	Title, Message, Next, DetailsLabel string
	// Expired reports an unknown or expired authorization request.
	// StartURL is then the client's initiate_login_uri when it has one
	// (storage.Client.InitiateLoginURI), where the user starts again, and
	// StartLabel the link's text.
	Expired              bool
	StartURL, StartLabel string
}

// unknownRequest is the description of the error a request handle that
// matches no pending request gets: it expired, or it was used already.
const unknownRequest = "unknown or expired authorization request"

// errorPrompt builds the prompt of error e for the request r.
func (s *Server) errorPrompt(r *http.Request, e *oauth.Error) *ErrorPrompt {
	lang, m := s.pageLanguage(r)
	p := &ErrorPrompt{Code: e.Code, Description: e.Description, Status: e.Status, Lang: lang, Messages: m,
		Title: m.text("error.title"), DetailsLabel: m.text("error.details")}
	switch {
	case errors.Is(e, oauth.ErrInvalidRequest) && e.Description == unknownRequest:
		p.Expired, p.Message, p.Next = true, m.text("error.expired"), m.text("error.go_back")
		if c := s.startClient(r); c != nil {
			p.StartURL, p.StartLabel = c.InitiateLoginURI, m.text("error.start_again", "{app}", clientName(c.ID, c.Name))
		}
	case errors.Is(e, oauth.ErrAccessDenied):
		p.Message = m.text("error.access_denied")
	case errors.Is(e, oauth.ErrTemporarilyUnavailable):
		p.Message = m.text("error.unavailable")
	case e.Status >= 500:
		p.Message = m.text("error.server")
	default:
		p.Message = m.text("error.invalid")
	}
	return p
}

// startClient returns the client a request to an expired authorization
// request names (the resume URL and the consent form carry client_id), if
// it has an initiate_login_uri. The id comes from the browser, but only a
// registered client's registered URL is ever linked.
func (s *Server) startClient(r *http.Request) *storage.Client {
	if r == nil {
		return nil
	}
	id := r.URL.Query().Get("client_id")
	if id == "" && r.PostForm != nil {
		id = r.PostForm.Get("client_id")
	}
	if id == "" || !storage.ValidID(id) {
		return nil
	}
	c, err := s.store.Clients().Get(r.Context(), id)
	if err != nil || c.InitiateLoginURI == "" {
		return nil
	}
	return c
}

// clientName is how pages name a client: its name, else its id.
func clientName(id, name string) string {
	if name == "" {
		return id
	}
	return name
}

// maxInitiateLoginURIBytes bounds a client's initiate_login_uri.
const maxInitiateLoginURIBytes = 2 << 10

// checkInitiateLoginURI accepts an absolute https URL without user info
// or fragment (OIDC Registration §2: initiate_login_uri uses https).
func checkInitiateLoginURI(uri string) error {
	u, err := url.Parse(uri)
	if err != nil || len(uri) > maxInitiateLoginURIBytes || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("authz: initiate_login_uri must be an absolute https URL without user info or fragment, of at most 2 KiB")
	}
	return nil
}
