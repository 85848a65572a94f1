package authz_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
)

// TestCreateClientRefusesInvalidIDs: a client id must be printable UTF-8
// without KeySep and at most storage.MaxIDBytes long.
func TestCreateClientRefusesInvalidIDs(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"app\xff", "app\x00", "app\n", "app\u202e", "a" + storage.KeySep + "b", strings.Repeat("a", storage.MaxIDBytes+1)} {
		if _, err := f.srv.CreateClient(context.Background(), &storage.Client{ID: id}); err == nil {
			t.Errorf("CreateClient(%q) succeeded", id)
		}
	}
	if _, err := f.srv.CreateClient(context.Background(), &storage.Client{ID: "app\uFFFD é " + strings.Repeat("a", storage.MaxIDBytes-10)}); err != nil {
		t.Errorf("a printable UTF-8 id was refused: %v", err)
	}
}

// replacingStore is a store whose client lookups replace invalid UTF-8 with
// U+FFFD, as a driver encoding ids as BSON or JSON strings may.
type replacingStore struct{ storage.Store }

type replacingClients struct {
	storage.Collection[storage.Client]
}

func (s replacingStore) Clients() storage.Collection[storage.Client] {
	return replacingClients{s.Store.Clients()}
}

func (s replacingStore) Resolve(ctx context.Context, clientID, audience string) (*storage.Resolution, error) {
	return s.Store.Resolve(ctx, strings.ToValidUTF8(clientID, "\uFFFD"), audience)
}

func (c replacingClients) Get(ctx context.Context, id string) (*storage.Client, error) {
	return c.Collection.Get(ctx, strings.ToValidUTF8(id, "\uFFFD"))
}

// TestTokenEndpointRefusesMalformedClientID: a client id of invalid UTF-8
// is invalid_client at the token and introspection endpoints before any
// lookup, so it never authenticates as the client whose id it turns into.
func TestTokenEndpointRefusesMalformedClientID(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *authz.Config) { c.Store = replacingStore{c.Store} })
	secret, err := f.srv.CreateClient(ctx, &storage.Client{ID: "app\uFFFD", GrantTypes: []string{"client_credentials"}})
	must(t, err)
	must(t, f.store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "app\uFFFD", Audience: usersAPI, Scopes: []string{"read:users"}}))
	for _, endpoint := range []string{"/oauth/token", "/oauth/introspect"} {
		form := url.Values{"grant_type": {"client_credentials"}, "audience": {usersAPI}, "token": {"x"}}
		resp, body := postForm(t, f.http.URL+endpoint, form, basic("app\xff", secret))
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("%s: %d %v, want 401 invalid_client", endpoint, resp.StatusCode, body)
		}
	}
}

// TestUserCannotTakeMachineSubject: a user whose id has the machine-subject
// form ("svc@clients", the sub of client svc's own tokens) gets no code and
// so no token carrying that sub.
func TestUserCannotTakeMachineSubject(t *testing.T) {
	f := newUserFixture(t)
	ctx := context.Background()
	must(t, f.store.Users().Create(ctx, &storage.User{ID: "svc@clients", Roles: []string{"organizer"}}))
	b := f.browser(t)
	b.login(f, "svc@clients")
	cfg := f.oauth("events-app")
	verifier := oauth2.GenerateVerifier()
	cb := f.authorize(t, b, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("audience", eventsAPI)), "svc@clients")
	if cb.Query().Get("code") != "" || cb.Query().Get("error") != "access_denied" {
		t.Fatalf("callback %v, want access_denied and no code", cb)
	}
}

// TestTokenEndpointRefusesMalformedAudience: an audience of invalid UTF-8
// is invalid_target, never looked up.
func TestTokenEndpointRefusesMalformedAudience(t *testing.T) {
	f := newFixture(t)
	form := url.Values{"grant_type": {"client_credentials"}, "audience": {usersAPI + "\xff"}}
	resp, body := postForm(t, f.http.URL+"/oauth/token", form, basic("reporter", f.secret))
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_target" {
		t.Fatalf("%d %v, want 400 invalid_target", resp.StatusCode, body)
	}
}
