package tenant

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// Config configures a Registry. Zero values are documented per field.
type Config struct {
	// Store is the backend; the Registry uses its root view
	// (Store.Tenant("")) for the tenant records and Store.Tenant(id) for
	// each tenant. Required.
	Store storage.Store
	// Template is the configuration every tenant's Server is built from:
	// grants, rules, login, lifetimes, limits. Its Issuer and Store are set
	// per tenant; its Keys must be nil (each tenant keeps its own keys in
	// its store). Configure may change the copy of one tenant.
	Template authz.Config
	// BaseURL makes tenants path-based: the issuer of tenant id is
	// BaseURL + "/" + id + "/" (BaseURL without its trailing slash), for
	// example https://my.domain.org/_api/auth/mytenant/. An https URL (or
	// http on a loopback host) without query or fragment.
	BaseURL string
	// Domain makes tenants host-based instead: the issuer of tenant id is
	// https://<id>.<Domain>/ and ids must be DNS labels. Exactly one of
	// BaseURL and Domain is required.
	Domain string
	// Configure, when set, adjusts the Config of one tenant after the
	// template is applied (per-tenant rules, login, lifetimes). It must not
	// change Issuer or Store; an error fails the build of that tenant.
	Configure func(ctx context.Context, t *storage.Tenant, cfg *authz.Config) error
	// Bootstrap, when set, runs once when Create has built a new tenant's
	// Server, whose first signing key then exists: a host creates the
	// tenant's management API and first client here through authz/admin.
	// An error undoes the creation (the record and the tenant's data are
	// deleted).
	Bootstrap func(ctx context.Context, t *storage.Tenant, srv *authz.Server) error
	// MaxServers bounds the cached Servers; the least recently used is
	// closed beyond it and built again on its next request. Zero means 1000.
	MaxServers int
	// Recheck is how long a cached Server is used before its tenant record
	// is read again, so that a tenant deleted through another process
	// stops being served here within it. Zero means 10 seconds.
	Recheck time.Duration
	// Now is the clock of CreatedAt and of Recheck. Nil means
	// Template.Now, or time.Now.
	Now func() time.Time
}

// Bounds of tenant records.
const (
	// MaxIDBytes bounds a tenant id: a DNS label's 63 octets (RFC 1035
	// §2.3.4), in path-based mode too, so ids stay portable between modes.
	MaxIDBytes = 63
	// MaxNameBytes bounds a tenant's display name.
	MaxNameBytes = 255
)

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Store == nil {
		return c, errors.New("tenant: Config.Store is required")
	}
	if c.Template.Keys != nil {
		return c, errors.New("tenant: Config.Template.Keys must be nil: every tenant keeps its own keys")
	}
	if (c.BaseURL == "") == (c.Domain == "") {
		return c, errors.New("tenant: exactly one of Config.BaseURL and Config.Domain is required")
	}
	if c.BaseURL != "" {
		c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
		if err := oauth.ValidIssuer(c.BaseURL + "/"); err != nil {
			return c, fmt.Errorf("tenant: Config.BaseURL: %w", err)
		}
	}
	if c.Domain != "" {
		c.Domain = strings.ToLower(strings.TrimSuffix(c.Domain, "."))
		if err := oauth.ValidIssuer("https://x." + c.Domain + "/"); err != nil || strings.ContainsAny(c.Domain, "/:@") {
			return c, fmt.Errorf("tenant: Config.Domain %q is not a host name", c.Domain)
		}
	}
	if c.MaxServers < 0 || c.Recheck < 0 {
		return c, errors.New("tenant: negative MaxServers or Recheck")
	}
	if c.MaxServers == 0 {
		c.MaxServers = 1000
	}
	if c.Recheck == 0 {
		c.Recheck = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = storage.ClockOrDefault(c.Template.Now)
	}
	c.Store = c.Store.Tenant("")
	return c, nil
}

// issuer is the issuer URL of tenant id.
func (c *Config) issuer(id string) string {
	if c.Domain != "" {
		return "https://" + id + "." + c.Domain + "/"
	}
	return c.BaseURL + "/" + id + "/"
}

// basePath is the URL path tenants are served under, with a trailing slash.
func (c *Config) basePath() string {
	u, _ := url.Parse(c.BaseURL) // validated
	return strings.TrimSuffix(u.Path, "/") + "/"
}

// validID checks a tenant id: a storage.ValidID of at most MaxIDBytes made
// of RFC 3986 §2.3 unreserved characters (a path segment that needs no
// escaping), not "." or ".."; host-based, a DNS label instead: lower-case
// letters, digits and inner hyphens (RFC 1123 §2.1).
func (c *Config) validID(id string) error {
	if !storage.ValidID(id) || len(id) > MaxIDBytes || id == "." || id == ".." {
		return fmt.Errorf("%w: tenant id %q: 1 to %d characters", storage.ErrInvalid, id, MaxIDBytes)
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		lowerOrDigit := b >= 'a' && b <= 'z' || b >= '0' && b <= '9'
		switch {
		case c.Domain != "" && (lowerOrDigit || b == '-' && i > 0 && i < len(id)-1):
		case c.Domain == "" && (lowerOrDigit || b >= 'A' && b <= 'Z' || strings.IndexByte("-._~", b) >= 0):
		default:
			if c.Domain != "" {
				return fmt.Errorf("%w: tenant id %q is not a DNS label (a-z, 0-9, inner hyphens)", storage.ErrInvalid, id)
			}
			return fmt.Errorf("%w: tenant id %q: letters, digits and -._~ only", storage.ErrInvalid, id)
		}
	}
	return nil
}

// validName checks a display name: empty, or a storage.ValidID of at most
// MaxNameBytes.
func validName(name string) error {
	if name != "" && (!storage.ValidID(name) || len(name) > MaxNameBytes) {
		return fmt.Errorf("%w: tenant name: printable text of at most %d bytes", storage.ErrInvalid, MaxNameBytes)
	}
	return nil
}
