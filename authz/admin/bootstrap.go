package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/scopekit/scopekit/storage"
)

// DefaultManagementClientID is the id of the first management client.
const DefaultManagementClientID = "management"

// BootstrapConfig names the management API and its first client.
type BootstrapConfig struct {
	// Audience is the management API's identifier; empty means
	// ManagementAudience(srv.Issuer()). Give Handler the same.
	Audience string
	// ClientID is the first management client; empty means
	// DefaultManagementClientID.
	ClientID string
}

// Bootstrapped is what Bootstrap made.
type Bootstrapped struct {
	// Audience is the management API's identifier.
	Audience string
	// ClientID is the management client.
	ClientID string
	// ClientSecret is the client's secret, set only by the call that
	// created the client: it is not stored and never shown again.
	ClientSecret string
}

// Bootstrap makes the management API an API of the store (Managed, its
// scopes ManagementScopes) and registers its first client: confidential,
// client credentials, granted every management scope. It is idempotent: a
// second call adds scopes a newer version defines and leaves the client
// and its secret as they are (ClientSecret empty). An unmanaged API with
// the identifier is refused rather than taken over.
func (m *Admin) Bootstrap(ctx context.Context, cfg BootstrapConfig) (*Bootstrapped, error) {
	out := &Bootstrapped{Audience: cfg.Audience, ClientID: cfg.ClientID}
	if out.Audience == "" {
		out.Audience = ManagementAudience(m.srv.Issuer())
	}
	if out.ClientID == "" {
		out.ClientID = DefaultManagementClientID
	}
	scopes := ManagementScopes()
	if err := m.bootstrapAPI(ctx, out.Audience, scopes); err != nil {
		return nil, err
	}
	_, err := m.GetClient(ctx, out.ClientID)
	switch {
	case isNotFound(err):
		cl := &storage.Client{ID: out.ClientID, Name: "Management", GrantTypes: []string{"client_credentials"}, FirstParty: true}
		if out.ClientSecret, err = m.CreateClient(ctx, cl); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	g, err := m.GetClientGrant(ctx, out.ClientID, out.Audience)
	switch {
	case isNotFound(err):
		err = m.CreateClientGrant(ctx, &storage.ClientGrant{ClientID: out.ClientID, Audience: out.Audience, Scopes: scopes})
	case err == nil && !sameSet(g.Scopes, scopes):
		g.Scopes = scopes
		err = m.UpdateClientGrant(ctx, g)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// bootstrapAPI creates the management API or brings its scopes up to date.
func (m *Admin) bootstrapAPI(ctx context.Context, aud string, scopes []string) error {
	want := make([]storage.Scope, len(scopes))
	for i, s := range scopes {
		want[i] = storage.Scope{Name: s}
	}
	a, err := m.GetAPI(ctx, aud)
	if isNotFound(err) {
		// EnforceRBAC: a user's token holds only the auth.* scopes their
		// roles grant, never ones they consented to themselves.
		err = m.CreateAPI(ctx, &storage.API{Identifier: aud, Name: "Management API", Managed: true,
			EnforceRBAC: true, AllowSkipConsent: true, Scopes: want})
		if !errors.Is(err, storage.ErrDuplicate) {
			return err
		}
		a, err = m.GetAPI(ctx, aud)
	}
	if err != nil {
		return err
	}
	if !a.Managed || !a.EnforceRBAC {
		return fmt.Errorf("admin: API %q exists and is not the management API (managed, enforcing RBAC)", aud)
	}
	missing := false
	for _, s := range scopes {
		if !a.HasScope(s) {
			a.Scopes = append(a.Scopes, storage.Scope{Name: s})
			missing = true
		}
	}
	if !missing {
		return nil
	}
	return m.UpdateAPI(ctx, a)
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range b {
		if !slices.Contains(a, s) {
			return false
		}
	}
	return true
}
