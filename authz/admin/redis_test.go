package admin_test

import (
	"errors"
	"testing"

	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/redis"
)

// TestOnRedis runs the key validation, cascade and revision cases on the
// Redis driver.
func TestOnRedis(t *testing.T) {
	r := testserver.StartRedis(t)
	store, err := redis.New(r.Client(), &redis.Options{Prefix: "admin"})
	must(t, err)
	m, st := newAdminOn(t, store)
	wantField(t, m.CreateAPI(bg, &storage.API{Identifier: "not a url", SigningAlg: "HS256"}), "identifier")
	if all, _ := storage.All(bg, st.APIs(), ""); len(all) != 0 {
		t.Fatalf("stored %d APIs after a refused create", len(all))
	}
	seed(t, m)
	wantField(t, m.CreateClientGrant(bg, &storage.ClientGrant{ClientID: "ghost", Audience: usersAPI}), "client_id")
	a, err := m.GetAPI(bg, usersAPI)
	must(t, err)
	stale := *a
	a.Scopes = a.Scopes[:1]
	must(t, m.UpdateAPI(bg, a))
	if err := m.UpdateAPI(bg, &stale); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("stale UpdateAPI = %v, want ErrConflict", err)
	}
	g, err := m.GetClientGrant(bg, "svc", usersAPI)
	must(t, err)
	if len(g.Scopes) != 1 || g.Scopes[0] != "read:users" {
		t.Fatalf("grant scopes after scope removal = %v", g.Scopes)
	}
	must(t, m.DeleteAPI(bg, usersAPI))
	if gs, _ := storage.All(bg, st.ClientGrants(), ""); len(gs) != 0 {
		t.Fatalf("client grants left after DeleteAPI: %d", len(gs))
	}
}
