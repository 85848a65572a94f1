package authz

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// Config configures a Server. Zero values are documented per field and
// filled in by New, in one place (Config.withDefaults).
type Config struct {
	// Issuer is the "iss" of every token and the base of every endpoint
	// (RFC 8414 §2). Required: an https URL, or http on a loopback host for
	// development. A trailing slash is kept as given, as Auth0 issuers have one.
	Issuer string
	// Store persists everything. Required.
	Store storage.Store
	// Grants are the token-endpoint grants this server runs, keyed by their
	// GrantType. At least one is required.
	Grants []Grant
	// Keys are the signing keys. Nil loads them from Store.Keys(), creating
	// an RS256 key when the store has none.
	Keys *token.KeySet
	// Login connects /authorize to the host application's sign-in. Required
	// for user-facing grants (authorization code); nil disables /authorize.
	Login Login
	// ImplicitFlow enables the legacy implicit responses "id_token" and
	// "id_token token" (OIDC Core §3.2) for the clients that list them in
	// ResponseTypes. Off by default: RFC 9700 §2.1.2 recommends the code flow
	// with PKCE instead, which keeps tokens out of URLs.
	ImplicitFlow bool
	// ConsentPage renders the consent page instead of the built-in one. Nil
	// means the built-in html/template page.
	ConsentPage ConsentPage
	// CodeLifetime is the authorization code lifetime. Zero means 60 seconds
	// (RFC 6749 §4.1.2 recommends at most 10 minutes).
	CodeLifetime time.Duration
	// AuthRequestLifetime is how long a pending authorization request waits
	// for the user to sign in and consent. Zero means 10 minutes.
	AuthRequestLifetime time.Duration
	// RefreshIdleLifetime is how long an unused refresh token stays valid.
	// Zero means 14 days.
	RefreshIdleLifetime time.Duration
	// RefreshAbsoluteLifetime bounds a refresh-token family from its first
	// issuance, however often it is rotated. Zero means 30 days.
	RefreshAbsoluteLifetime time.Duration
	// Rules run in order at every issuance (see Rule).
	Rules []Rule
	// RuleTimeout bounds each rule's run. Zero means 2 seconds.
	RuleTimeout time.Duration
	// StrictClaims turns a custom claim that breaks the naming rules into an
	// issuance error. By default such a claim is left out of the token and
	// logged with the rule's name.
	StrictClaims bool
	// ReservedClaimHosts are hosts (and their subdomains) no custom claim may
	// be namespaced under, besides the issuer's own host.
	ReservedClaimHosts []string
	// MaxCustomClaimsBytes caps the total size of the custom claims of one
	// issuance. Zero means 8 KiB.
	MaxCustomClaimsBytes int
	// DefaultAudience applies to token requests that name no audience.
	// Empty means such requests fail with invalid_request.
	DefaultAudience string
	// AccessTokenLifetime applies to APIs without a TokenLifetime.
	// Zero means one hour.
	AccessTokenLifetime time.Duration
	// IDTokenLifetime is the lifetime of ID tokens (their exp). Zero means
	// one hour. It is independent of the access token's: an ID token is
	// proof of a sign-in for the client, not a credential for an API.
	IDTokenLifetime time.Duration
	// Leeway is the clock skew accepted when checking tokens. Zero means 30
	// seconds; more than 5 minutes is refused.
	Leeway time.Duration
	// VerifiedTokenCache bounds how many verified access tokens in-process
	// authorizers remember, so that a token seen before costs a map lookup
	// instead of a signature check (the revocation check still runs). Zero
	// means 10000; negative disables the cache.
	VerifiedTokenCache int
	// MaxBodyBytes bounds request bodies at every endpoint. Zero means 64 KiB.
	MaxBodyBytes int64
	// Realm is the realm of WWW-Authenticate challenges. Empty means the issuer.
	Realm string
	// Logger receives internal errors that responses never show. Nil means
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now. When set, New hands it to the
	// store (storage.Store.WithClock), so that codes, requests, refresh
	// tokens and revocations expire on this clock too.
	Now func() time.Time
}

const (
	defaultLifetime = time.Hour
	defaultLeeway   = 30 * time.Second
	maxLeeway       = 5 * time.Minute
	defaultMaxBody  = 64 << 10
)

// withDefaults validates c and returns a copy with every zero value filled in.
func (c Config) withDefaults() (Config, error) {
	if err := validIssuer(c.Issuer); err != nil {
		return c, err
	}
	if c.Store == nil {
		return c, errors.New("authz: Config.Store is required")
	}
	if len(c.Grants) == 0 {
		return c, errors.New("authz: Config.Grants needs at least one grant")
	}
	seen := map[string]bool{}
	for _, g := range c.Grants {
		if g == nil || g.GrantType() == "" {
			return c, errors.New("authz: Config.Grants holds a nil grant or one without a type")
		}
		if seen[g.GrantType()] {
			return c, fmt.Errorf("authz: grant type %q registered twice", g.GrantType())
		}
		seen[g.GrantType()] = true
	}
	for _, d := range []time.Duration{c.RuleTimeout, c.AccessTokenLifetime, c.IDTokenLifetime, c.Leeway, c.CodeLifetime, c.AuthRequestLifetime, c.RefreshIdleLifetime, c.RefreshAbsoluteLifetime} {
		if d < 0 {
			return c, errors.New("authz: negative lifetime or leeway")
		}
	}
	if c.MaxBodyBytes < 0 {
		return c, errors.New("authz: negative body limit")
	}
	c.RuleTimeout = orDefault(c.RuleTimeout, defaultRuleTimeout)
	if c.VerifiedTokenCache == 0 {
		c.VerifiedTokenCache = 10000
	}
	if c.MaxCustomClaimsBytes <= 0 {
		c.MaxCustomClaimsBytes = defaultMaxCustomClaimsBytes
	}
	for i, r := range c.Rules {
		if r.Name == "" || r.Run == nil {
			return c, fmt.Errorf("authz: rule %d needs a Name and a Run function", i)
		}
	}
	c.CodeLifetime = orDefault(c.CodeLifetime, 60*time.Second)
	c.AuthRequestLifetime = orDefault(c.AuthRequestLifetime, 10*time.Minute)
	c.RefreshIdleLifetime = orDefault(c.RefreshIdleLifetime, 14*24*time.Hour)
	c.RefreshAbsoluteLifetime = orDefault(c.RefreshAbsoluteLifetime, 30*24*time.Hour)
	if c.AccessTokenLifetime == 0 {
		c.AccessTokenLifetime = defaultLifetime
	}
	c.IDTokenLifetime = orDefault(c.IDTokenLifetime, defaultLifetime)
	if c.Leeway == 0 {
		c.Leeway = defaultLeeway
	}
	if c.Leeway > maxLeeway {
		return c, fmt.Errorf("authz: Leeway %v is above the %v bound", c.Leeway, maxLeeway)
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = defaultMaxBody
	}
	if c.Realm == "" {
		c.Realm = c.Issuer
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

func validIssuer(iss string) error {
	if iss == "" {
		return errors.New("authz: Config.Issuer is required")
	}
	u, err := secureURL(iss)
	if err != nil {
		return fmt.Errorf("authz: Config.Issuer: %w", err)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("authz: Config.Issuer %q must have no query or fragment (RFC 8414 §2)", iss)
	}
	return nil
}

// secureURL parses an absolute URL that uses https, or http on a loopback
// host (development): anything reached over plain HTTP elsewhere could be
// swapped by anyone on the path (RFC 8414 §2, RFC 9700 §2.6).
func secureURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
	default:
		return nil, fmt.Errorf("%q must use https (http only on a loopback host)", raw)
	}
	return u, nil
}

// isLoopbackHost reports whether host is localhost or a loopback IP.
func isLoopbackHost(host string) bool {
	return host == "localhost" || loopbackIP(host)
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
