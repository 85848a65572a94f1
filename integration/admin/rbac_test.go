package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

const consoleCB = "http://127.0.0.1/console/callback"

// userToken signs user in (the host's session cookie) and runs the
// authorization code flow with PKCE for the console client, asking for
// scopes of the management API; it returns the access token.
func (e *env) userToken(t *testing.T, user string, scopes ...string) string {
	t.Helper()
	cfg := &oauth2.Config{ClientID: "console", RedirectURL: consoleCB, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: e.ts.URL + "/authorize", TokenURL: e.ts.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	next := cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("audience", e.boot.Audience))
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 5 {
		req, err := http.NewRequest("GET", next, nil)
		must(t, err)
		req.AddCookie(&http.Cookie{Name: "user", Value: user})
		resp, err := c.Do(req)
		must(t, err)
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("authorize answered %d without a redirect", resp.StatusCode)
		}
		if strings.HasPrefix(loc.String(), consoleCB) {
			code := loc.Query().Get("code")
			if code == "" {
				t.Fatalf("callback %s", loc)
			}
			tok, err := cfg.Exchange(bg, code, oauth2.VerifierOption(verifier))
			must(t, err)
			return tok.AccessToken
		}
		next = loc.String()
	}
	t.Fatal("the flow did not reach the callback")
	return ""
}

// TestUsersThroughRBAC: a role holding management permissions, given to a
// group, lets its members manage through the console with their own
// tokens (authorization code flow); a user outside the group asking for the
// same scopes gets a token without them, refused with 403.
func TestUsersThroughRBAC(t *testing.T) {
	e := newEnv(t, memory.New())
	tok := e.all()
	e.do("POST", "/api/v2/clients", tok, map[string]any{"client_id": "console", "client_name": "Console", "public": true,
		"first_party": true, "token_endpoint_auth_method": "none", "redirect_uris": []string{consoleCB},
		"grant_types": []string{"authorization_code"}}).want(t, http.StatusCreated)
	e.do("POST", "/api/v2/roles", tok, map[string]any{"id": "user-admin", "name": "User admin"}).want(t, http.StatusCreated)
	e.do("POST", "/api/v2/roles/user-admin/permissions", tok, map[string]any{"permissions": []storage.Permission{
		{Audience: e.boot.Audience, Scope: admin.ScopeUsersList}, {Audience: e.boot.Audience, Scope: admin.ScopeUsersCreate}}}).
		want(t, http.StatusNoContent)
	e.do("POST", "/api/v2/groups", tok, map[string]any{"id": "admins", "name": "Admins"}).want(t, http.StatusCreated)
	e.do("POST", "/api/v2/groups/admins/roles", tok, map[string]any{"roles": []string{"user-admin"}}).want(t, http.StatusNoContent)
	for _, u := range []string{"dana", "eve"} {
		e.do("POST", "/api/v2/users", tok, map[string]any{"user_id": u}).want(t, http.StatusCreated)
	}
	e.do("POST", "/api/v2/groups/admins/members", tok, map[string]any{"members": []string{"dana"}}).want(t, http.StatusNoContent)

	asked := []string{admin.ScopeUsersList, admin.ScopeUsersCreate, admin.ScopeClientsDelete}
	dana := e.userToken(t, "dana", asked...)
	e.do("GET", "/api/v2/users", dana, nil).want(t, http.StatusOK)
	e.do("POST", "/api/v2/users", dana, map[string]any{"user_id": "frank"}).want(t, http.StatusCreated)
	a := e.do("DELETE", "/api/v2/clients/console", dana, nil).want(t, http.StatusForbidden)
	if !strings.Contains(a.Header.Get("WWW-Authenticate"), `scope="auth.clients.delete"`) {
		t.Fatalf("challenge %q", a.Header.Get("WWW-Authenticate"))
	}

	eve := e.userToken(t, "eve", asked...)
	e.do("GET", "/api/v2/users", eve, nil).want(t, http.StatusForbidden)

	// leaving the group takes the permissions away from the next token
	e.do("DELETE", "/api/v2/groups/admins/members", tok, map[string]any{"members": []string{"dana"}}).want(t, http.StatusNoContent)
	e.do("GET", "/api/v2/users", e.userToken(t, "dana", asked...), nil).want(t, http.StatusForbidden)
}
