package admin_test

import (
	"net/http"
	"testing"

	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// TestBootstrapIdempotent: a second Bootstrap makes nothing new and shows
// no secret; the first secret still works; the management API is managed,
// enforces RBAC and cannot be deleted; an unmanaged API at the identifier
// is not taken over.
func TestBootstrapIdempotent(t *testing.T) {
	e := newEnv(t, memory.New())
	again, err := e.adm.Bootstrap(bg, admin.BootstrapConfig{})
	must(t, err)
	if again.ClientSecret != "" || again.ClientID != e.boot.ClientID || again.Audience != e.srv.Issuer()+"api/v2/" {
		t.Fatalf("second bootstrap %+v", again)
	}
	e.do("GET", "/api/v2/clients", e.all(), nil).want(t, http.StatusOK)
	api, err := e.adm.GetAPI(bg, e.boot.Audience)
	must(t, err)
	if !api.Managed || !api.EnforceRBAC || len(api.Scopes) != len(admin.ManagementScopes()) {
		t.Fatalf("management API %+v", api)
	}
	must(t, e.adm.CreateAPI(bg, &storage.API{Identifier: "https://taken.example.com/", Name: "Taken"}))
	if _, err := e.adm.Bootstrap(bg, admin.BootstrapConfig{Audience: "https://taken.example.com/"}); err == nil {
		t.Fatal("bootstrap took over an unmanaged API")
	}
}
