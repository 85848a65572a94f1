package authz

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// respondImplicit answers "id_token" and "id_token token" requests
// (OIDC Core §3.2.2.5): the tokens go in the fragment, or a form post, never
// in a query. No refresh token is issued from the front channel.
func (s *Server) respondImplicit(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, client *storage.Client, d *Decision, now time.Time) {
	d.GrantType = "implicit"
	d.Scopes = withoutOffline(d.Scopes)
	if err := implicitDPoP(ar.ResponseType, client, d.API); err != nil {
		s.redirectError(w, r, ar, err)
		return
	}
	resp, err := s.mint(r.Context(), client, d, now, ar.ResponseType == "id_token")
	if err != nil {
		s.redirectError(w, r, ar, err)
		return
	}
	p := url.Values{"id_token": {resp.IDToken}}
	if resp.AccessToken != "" {
		p.Set("access_token", resp.AccessToken)
		p.Set("token_type", resp.TokenType)
		p.Set("expires_in", strconv.FormatInt(resp.ExpiresIn, 10))
		if resp.Scope != "" {
			p.Set("scope", resp.Scope)
		}
	}
	s.redirectResult(w, r, ar, p)
}

// loginGrantType is the grant type of a login decision by response type:
// "implicit" for the implicit responses, "authorization_code" otherwise. It
// is set before the rules run, so that they can tell the flows apart.
func loginGrantType(responseType string) string {
	if implicit(responseType) {
		return "implicit"
	}
	return "authorization_code"
}

func withoutOffline(scopes []string) []string {
	out := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		if sc != oauth.ScopeOfflineAccess {
			out = append(out, sc)
		}
	}
	return out
}
