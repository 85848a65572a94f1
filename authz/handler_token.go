package authz

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// serveToken is the token endpoint (RFC 6749 §3.2).
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	form, err := s.readForm(w, r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	ctx := r.Context()
	s.setDPoPNonce(ctx, w)
	req, err := s.parseTokenRequest(r, form)
	if err != nil {
		s.writeError(w, err)
		return
	}
	var slot *corsClient
	if r.Header.Get("Origin") != "" {
		slot = &corsClient{}
		ctx = withCORSClient(ctx, slot)
	}
	resp, err := s.Issue(ctx, req)
	if slot != nil {
		allowOrigin(w, r, slot.client)
	}
	if err != nil {
		s.writeError(w, err)
		return
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	*bp = resp.AppendJSON((*bp)[:0])
	oauth.SetNoStore(w)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(*bp)
}

// parseTokenRequest reads the token request and its client credentials.
func (s *Server) parseTokenRequest(r *http.Request, form url.Values) (*TokenRequest, error) {
	req := &TokenRequest{
		GrantType:    form.Get("grant_type"),
		Code:         form.Get("code"),
		RedirectURI:  form.Get("redirect_uri"),
		CodeVerifier: form.Get("code_verifier"),
		RefreshToken: form.Get("refresh_token"),
		Params:       form,
	}
	if err := readClientCredentials(r, form, req); err != nil {
		return nil, err
	}
	var err error
	if req.DPoP, err = dpopHeader(r); err != nil {
		return nil, err
	}
	aud, err := audienceParam(form)
	if err != nil {
		return nil, err
	}
	req.Audience = aud
	if form.Has("scope") {
		req.Scopes, err = s.parseScope(form.Get("scope"))
		if err != nil {
			return nil, err
		}
		if req.Scopes == nil {
			req.Scopes = []string{}
		}
	}
	return req, nil
}

// audienceParam reads "audience", or RFC 8707 "resource" (an absolute URI
// without fragment); naming two different ones is invalid_target.
func audienceParam(form url.Values) (string, error) {
	aud, res := form.Get("audience"), form.Get("resource")
	if res != "" {
		u, err := url.Parse(res)
		if err != nil || !u.IsAbs() || u.Fragment != "" {
			return "", oauth.ErrInvalidTarget.WithDescription("resource must be an absolute URI without fragment (RFC 8707 §2)")
		}
		if aud != "" && aud != res {
			return "", oauth.ErrInvalidTarget.WithDescription("audience and resource name different APIs")
		}
		aud = res
	}
	if aud != "" && !storage.ValidID(aud) {
		return "", oauth.ErrInvalidTarget.WithDescription("malformed audience")
	}
	return aud, nil
}

// readClientCredentials reads the client credentials of a request into
// req: client_secret_basic, client_secret_post, a client_assertion
// (private_key_jwt), or a bare client_id for public clients (RFC 6749
// §2.3.1, RFC 7523 §2.2). Using two methods at once is invalid_request.
func readClientCredentials(r *http.Request, form url.Values, req *TokenRequest) error {
	req.Params = form
	h := r.Header.Get("Authorization")
	methods := 0
	for _, present := range [...]bool{h != "", form.Has("client_secret"), form.Has("client_assertion") || form.Has("client_assertion_type")} {
		if present {
			methods++
		}
	}
	if methods > 1 {
		return oauth.ErrInvalidRequest.WithDescription("client credentials sent by more than one method")
	}
	switch {
	case h != "":
		user, pass, ok := parseBasic(h)
		if !ok {
			e := oauth.ErrInvalidClient.WithDescription("malformed Basic credentials")
			e.Basic = true
			return e
		}
		if fid := form.Get("client_id"); fid != "" && fid != user {
			return oauth.ErrInvalidRequest.WithDescription("client_id does not match the Basic credentials")
		}
		req.ClientID, req.ClientSecret, req.AuthMethod = user, pass, oauth.AuthBasic
	case form.Has("client_secret"):
		req.ClientID, req.ClientSecret, req.AuthMethod = form.Get("client_id"), form.Get("client_secret"), oauth.AuthPost
	case methods == 1:
		return readAssertion(form, req)
	default:
		req.ClientID, req.AuthMethod = form.Get("client_id"), oauth.AuthNone
	}
	return nil
}

// parseBasic decodes HTTP Basic credentials whose parts are form-encoded
// (RFC 6749 §2.3.1).
func parseBasic(h string) (user, pass string, ok bool) {
	const prefix = "Basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", false
	}
	// Credentials of up to 256 bytes are decoded on the stack: the
	// string below is the only allocation.
	enc := strings.TrimSpace(h[len(prefix):])
	var src [344]byte
	var dst [258]byte
	var raw []byte
	var err error
	if len(enc) <= len(src) {
		n := copy(src[:], enc)
		raw, err = base64.StdEncoding.AppendDecode(dst[:0], src[:n])
	} else {
		raw, err = base64.StdEncoding.DecodeString(enc)
	}
	if err != nil {
		return "", "", false
	}
	u, p, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false
	}
	if user, err = url.QueryUnescape(u); err != nil {
		return "", "", false
	}
	if pass, err = url.QueryUnescape(p); err != nil {
		return "", "", false
	}
	return user, pass, user != ""
}
