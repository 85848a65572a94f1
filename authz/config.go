package authz

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/scopekit/scopekit/authz/event"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// Config configures a Server. Zero values are documented per field and
// filled in by New.
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
	// KeyWrapper encrypts the private signing keys kept in Store
	// (envelope encryption, see docs/KEYS.md): token.NewAESKeyWrapper with a
	// key the host provides, or a KMS. Nil stores them in clear, with a
	// warning logged once.
	KeyWrapper token.KeyWrapper
	// KeyReloadInterval bounds how stale a replica's signing keys may be
	// when they live in Store (Config.Keys nil): every replica re-reads the
	// store's key set at least this often, so a key added, retired or
	// removed at one replica takes effect at all of them within it (sooner
	// on a store that is a storage.KeyWatcher, such as Redis). It is also
	// the JWKS's Cache-Control max-age (at most 300 s). Zero means 20
	// seconds. See docs/KEYS.md.
	KeyReloadInterval time.Duration
	// KeyPublishDelay is how long a key made by RotateKey is only published
	// before any replica signs with it, so that every replica and every
	// remote API's cached JWKS knows it first. It must exceed
	// KeyReloadInterval plus the remote APIs' JWKS refresh interval (one
	// minute for resource.NewRemote). Zero means 5 minutes.
	KeyPublishDelay time.Duration
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
	// ErrorPage renders the error page of the authorization endpoints
	// instead of the built-in one (see ErrorPage). Nil means the built-in
	// page.
	ErrorPage ErrorPage
	// PageMessages add or override catalogues of the built-in pages, by
	// language tag ("fr", "de", "pt-BR"): a message id missing from a
	// catalogue falls back to the built-in text of that language, then to
	// English. See DefaultMessages and docs/LOGIN.md.
	PageMessages map[string]Messages
	// CodeLifetime is the authorization code lifetime. Zero means 60 seconds
	// (RFC 6749 §4.1.2 recommends at most 10 minutes).
	CodeLifetime time.Duration
	// AuthRequestLifetime is how long a pending authorization request waits
	// for the user to sign in and consent. Zero means 10 minutes.
	AuthRequestLifetime time.Duration
	// PushedRequestLifetime is how long a request_uri of the pushed
	// authorization request endpoint stays usable (RFC 9126 §2.2
	// expires_in), whole seconds. Zero means 60 seconds.
	PushedRequestLifetime time.Duration
	// RequirePushedAuthorizationRequests makes /authorize accept requests
	// only through a request_uri of the pushed authorization request
	// endpoint, for every client (RFC 9126 §5); Client.
	// RequirePushedAuthorizationRequests asks it for one client.
	RequirePushedAuthorizationRequests bool
	// DeviceCodeLifetime is how long a device code (RFC 8628 §3.2
	// expires_in) waits for the user. Zero means 10 minutes.
	DeviceCodeLifetime time.Duration
	// DevicePollInterval is the least time between a device's polls (RFC
	// 8628 §3.2 interval), whole seconds. Zero means 5 seconds.
	DevicePollInterval time.Duration
	// RefreshIdleLifetime is how long an unused refresh token stays valid.
	// Zero means 14 days.
	RefreshIdleLifetime time.Duration
	// RefreshAbsoluteLifetime bounds a refresh-token family from its first
	// issuance, however often it is rotated. Zero means 30 days.
	RefreshAbsoluteLifetime time.Duration
	// RetryWindow is how long after a refresh token's rotation, or a
	// code's first exchange, the same request by the same client (for a
	// code: with the same PKCE verifier) is answered as a retry, with the
	// same new refresh token and equivalent access and ID tokens, instead
	// of as a reuse that revokes the grant: the first answer may have been
	// lost to a timeout or a 503 after the store applied it. Outside it,
	// reuse detection is unchanged (RFC 9700 §4.14.2). Zero means 10
	// seconds; a negative value disables retries. See docs/ARCHITECTURE.md,
	// "Retries and grace windows".
	RetryWindow time.Duration
	// DPoPProofWindow bounds how far a DPoP proof's iat may be from the
	// server clock, either way (RFC 9449 §11.1); its jti is remembered
	// that long. Zero means 60 seconds. See docs/DPOP.md.
	DPoPProofWindow time.Duration
	// DPoPNonce makes the token endpoint require server-provided nonces in
	// DPoP proofs (RFC 9449 §8): a proof without the current one is
	// answered use_dpop_nonce with a DPoP-Nonce header. Nonces rotate every
	// 5 minutes and are stateless (derived from the tenant's stored
	// secret), so every replica accepts them.
	DPoPNonce bool
	// Rules run in order at every issuance (see Rule).
	Rules []Rule
	// RuleTimeout bounds each rule's run. Zero means 2 seconds.
	RuleTimeout time.Duration
	// MaxOverrunningRules caps the rules still running after RuleTimeout
	// (a rule that ignores its ctx cannot be stopped). While that many are
	// running, issuances that run rules fail with server_error without
	// starting them. Zero means 100.
	MaxOverrunningRules int
	// StrictClaims turns a custom claim that breaks the naming rules into an
	// issuance error. By default such a claim is left out of the token and
	// logged with the rule's name.
	StrictClaims bool
	// ReservedClaimHosts are hosts (and their subdomains) no custom claim may
	// be namespaced under, besides the issuer's own host. They are ASCII
	// host names, internationalised ones in their A-label (xn--) form;
	// compared without case or trailing dot.
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
	// MaxSigningsInFlight bounds the token signatures computed at once
	// (admission control, docs/PERFORMANCE.md): the others wait in arrival
	// order, so that under saturation the tail stays short. Zero means
	// runtime.GOMAXPROCS(0); negative disables admission control.
	MaxSigningsInFlight int
	// MaxSigningsQueued bounds the requests waiting for a signature slot;
	// beyond it a token request is answered 503 temporarily_unavailable
	// with Retry-After at once. Zero means 64 per slot in flight.
	MaxSigningsQueued int
	// SigningQueueTimeout is the longest a request waits for a signature
	// slot before the same 503. Zero means 1 second.
	SigningQueueTimeout time.Duration
	// ClientCredentialsReuseWindow, when positive, answers a
	// client-credentials request identical to one answered less than this
	// long ago (same client, audience, granted scopes and signing key) with
	// the same, still valid, access token instead of signing a new one: an
	// RS256 signature is over 95 % of an issuance (docs/PERFORMANCE.md). The
	// holders then share one jti, so revoking the token revokes it for all;
	// a revoked token is never handed out again. Tokens to which a rule
	// added a claim are never reused. Zero (the default) disables reuse.
	ClientCredentialsReuseWindow time.Duration
	// RevocationPush selects how an in-process authorizer learns of the
	// revocation of a token it verified before (docs/PERFORMANCE.md): with
	// RevocationPushOn (the default) a store that is a
	// storage.RevocationWatcher pushes every revocation to every server, so
	// a cached token costs no store call; RevocationPushOff asks the store
	// on every call.
	RevocationPush RevocationPushMode
	// MaxBodyBytes bounds request bodies at every endpoint. Zero means 64 KiB.
	MaxBodyBytes int64
	// MaxScopes bounds the scope tokens of one authorization or token
	// request, repeats included. Zero means oauth.DefaultMaxScopes (100); beyond it
	// the request fails with invalid_scope.
	MaxScopes int
	// MaxScopeLength bounds one scope token, in bytes. Zero means
	// oauth.DefaultMaxScopeLength (128); beyond it: invalid_scope.
	MaxScopeLength int
	// MaxStateBytes bounds the state of an authorization request, which is
	// stored and echoed in the redirect. Zero means 1 KiB; beyond it:
	// invalid_request, and the state is not echoed.
	MaxStateBytes int
	// MaxNonceBytes bounds the nonce of an authorization request, which is
	// stored and copied into the ID token. Zero means 1 KiB; beyond it:
	// invalid_request.
	MaxNonceBytes int
	// MaxParamBytes bounds the name and value of every other authorization
	// request parameter (client_id, redirect_uri, prompt, audience, ...;
	// scope has its own bounds). Zero means 2 KiB; beyond it: invalid_request.
	MaxParamBytes int
	// MaxParams bounds the number of parameters of an authorization request.
	// Zero means 50; beyond it: invalid_request.
	MaxParams int
	// MaxAuthRequestBytes bounds what one pending authorization request
	// stores: its parameter values, scopes, prompt values and Extra names and
	// values together. Zero means 16 KiB; beyond it: invalid_request, and
	// nothing is stored.
	MaxAuthRequestBytes int
	// Realm is the realm of WWW-Authenticate challenges. Empty means the issuer.
	Realm string
	// Logger receives internal errors that responses never show. Nil means
	// slog.Default().
	Logger *slog.Logger
	// EventHooks receive every security event (docs/EVENTS.md), in order,
	// each wrapping the next; the last handler logs the event to Logger. A
	// nil hook is skipped.
	EventHooks []event.Hook
	// AuditLog stores the audited events (event kinds in AuditedKinds) in
	// the store's per-tenant audit log (storage.AuditLog), before the
	// hooks run. A failed audit write is logged; it never fails a request.
	AuditLog bool
	// AuditRetention is how long an audit record is kept. Zero means 30
	// days.
	AuditRetention time.Duration
	// AuditMaxRecords bounds the audit records kept per tenant, the oldest
	// dropped first. Zero means 10000.
	AuditMaxRecords int
	// ClientAuthenticators add client authentication methods, or replace
	// or disable built-in ones, keyed by token_endpoint_auth_method: the
	// built-ins client_secret_basic, client_secret_post, private_key_jwt and
	// none are enabled unless mapped to nil here. See docs/CLIENT_AUTH.md.
	ClientAuthenticators map[string]ClientAuthenticator
	// ExchangeIssuers are the other issuers whose access tokens the
	// token-exchange grant accepts as subject or actor tokens, keyed by
	// their "iss", each with the verifier that checks them (a
	// resource.NewRemote authorizer). Trusting an issuer here lets its
	// subjects be named in this server's tokens, for the APIs whose
	// ExchangePolicy lists it only.
	ExchangeIssuers map[string]SubjectVerifier
	// ClientJWKSClient fetches the jwks_uri of private_key_jwt clients. Nil
	// means a client with a 10-second timeout that follows https redirects
	// only.
	ClientJWKSClient *http.Client
	// SessionLifetime bounds an OP session (docs/LOGOUT.md): the sign-in
	// that RP-initiated and back-channel logout end. Zero means 24 hours.
	SessionLifetime time.Duration
	// LogoutClient delivers back-channel logout tokens. Nil means a client
	// with a 5-second timeout that follows no redirects.
	LogoutClient *http.Client
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

	defaultMaxStateBytes       = 1 << 10
	defaultMaxNonceBytes       = 1 << 10
	defaultMaxParamBytes       = 2 << 10
	defaultMaxParams           = 50
	defaultMaxAuthRequestBytes = 16 << 10
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
	for _, d := range []time.Duration{c.RuleTimeout, c.AccessTokenLifetime, c.IDTokenLifetime, c.Leeway, c.CodeLifetime, c.AuthRequestLifetime, c.PushedRequestLifetime, c.RefreshIdleLifetime, c.RefreshAbsoluteLifetime, c.DeviceCodeLifetime, c.DevicePollInterval} {
		if d < 0 {
			return c, errors.New("authz: negative lifetime or leeway")
		}
	}
	if c.MaxBodyBytes < 0 {
		return c, errors.New("authz: negative body limit")
	}
	if err := c.requestLimitDefaults(); err != nil {
		return c, err
	}
	c.RuleTimeout = orDefault(c.RuleTimeout, defaultRuleTimeout)
	if c.MaxOverrunningRules <= 0 {
		c.MaxOverrunningRules = defaultMaxOverrunningRules
	}
	if c.VerifiedTokenCache == 0 {
		c.VerifiedTokenCache = 10000
	}
	if err := c.admissionDefaults(); err != nil {
		return c, err
	}
	if c.MaxCustomClaimsBytes <= 0 {
		c.MaxCustomClaimsBytes = defaultMaxCustomClaimsBytes
	}
	for _, h := range c.ReservedClaimHosts {
		if !dnsName(normalizeHost(strings.TrimSpace(h))) {
			return c, fmt.Errorf("authz: Config.ReservedClaimHosts: %q is not an ASCII host name (write an internationalised name in its xn-- form)", h)
		}
	}
	for i, r := range c.Rules {
		if r.Name == "" || r.Run == nil {
			return c, fmt.Errorf("authz: rule %d needs a Name and a Run function", i)
		}
	}
	if c.KeyReloadInterval < 0 || c.KeyPublishDelay < 0 {
		return c, errors.New("authz: negative KeyReloadInterval or KeyPublishDelay")
	}
	c.KeyReloadInterval = orDefault(c.KeyReloadInterval, defaultKeyReloadInterval)
	c.KeyPublishDelay = orDefault(c.KeyPublishDelay, defaultKeyPublishDelay)
	c.CodeLifetime = orDefault(c.CodeLifetime, 60*time.Second)
	c.AuthRequestLifetime = orDefault(c.AuthRequestLifetime, 10*time.Minute)
	c.DeviceCodeLifetime = orDefault(c.DeviceCodeLifetime, 10*time.Minute)
	c.PushedRequestLifetime = orDefault(c.PushedRequestLifetime, 60*time.Second).Truncate(time.Second)
	if c.PushedRequestLifetime == 0 {
		return c, errors.New("authz: PushedRequestLifetime below one second")
	}
	c.DevicePollInterval = orDefault(c.DevicePollInterval, 5*time.Second).Truncate(time.Second)
	if c.DevicePollInterval == 0 {
		return c, errors.New("authz: DevicePollInterval below one second")
	}
	c.RefreshIdleLifetime = orDefault(c.RefreshIdleLifetime, 14*24*time.Hour)
	c.RefreshAbsoluteLifetime = orDefault(c.RefreshAbsoluteLifetime, 30*24*time.Hour)
	c.RetryWindow = orDefault(c.RetryWindow, defaultRetryWindow)
	if c.DPoPProofWindow < 0 || c.DPoPProofWindow > maxLeeway {
		return c, fmt.Errorf("authz: DPoPProofWindow %v outside (0, %v]", c.DPoPProofWindow, maxLeeway)
	}
	c.DPoPProofWindow = orDefault(c.DPoPProofWindow, token.DefaultDPoPWindow)
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
	if err := c.auditDefaults(); err != nil {
		return c, err
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.logoutDefaults()
	return c, nil
}

// requestLimitDefaults fills in the request bounds (docs/LIMITS.md) and
// refuses negative ones.
func (c *Config) requestLimitDefaults() error {
	for _, l := range []struct {
		v   *int
		def int
	}{
		{&c.MaxScopes, oauth.DefaultMaxScopes},
		{&c.MaxScopeLength, oauth.DefaultMaxScopeLength},
		{&c.MaxStateBytes, defaultMaxStateBytes},
		{&c.MaxNonceBytes, defaultMaxNonceBytes},
		{&c.MaxParamBytes, defaultMaxParamBytes},
		{&c.MaxParams, defaultMaxParams},
		{&c.MaxAuthRequestBytes, defaultMaxAuthRequestBytes},
	} {
		if *l.v < 0 {
			return errors.New("authz: negative request limit")
		}
		if *l.v == 0 {
			*l.v = l.def
		}
	}
	return nil
}

// validIssuer checks Config.Issuer (oauth.ValidIssuer).
func validIssuer(iss string) error {
	if err := oauth.ValidIssuer(iss); err != nil {
		return fmt.Errorf("authz: Config.Issuer: %w", err)
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
