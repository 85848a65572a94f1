package authz

import (
	"context"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/scopekit/scopekit/authz/event"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// Server is an OAuth 2.0 authorization server for one tenant. It is safe for
// concurrent use. A multi-tenant host runs one Server per tenant over
// Store.Tenant views of one backend.
type Server struct {
	cfg       Config
	store     storage.Store
	grants    map[string]Grant
	caps      grantCaps
	keys      *storeKeys
	endpoints endpoints
	// reservedHosts are the hosts custom claims may not be namespaced under.
	reservedHosts []string
	// cache remembers verified access tokens for in-process authorizers.
	cache *resource.Cache
	// defaultAuthorizer serves Server.Authorize.
	defaultAuthorizer *resource.Authorizer
	// userinfoAuthorizer checks the access tokens presented at /userinfo.
	userinfoAuthorizer *resource.Authorizer
	// clientAuth are the enabled client authentication methods.
	clientAuth map[string]ClientAuthenticator
	// clientKeys caches the JWK Sets of jwks_uri clients.
	clientKeys *remoteClientKeys
	// overrunningRules counts rule goroutines still running past their
	// deadline (Config.MaxOverrunningRules).
	overrunningRules atomic.Int64
	// events is the chain of Config.EventHooks ending at the logger.
	events event.Handler
	// hooked is set when a hook (or the audit log) sees events.
	hooked bool
	// unready is set while readiness probes fail, so that the failure and
	// the recovery are each logged once.
	unready atomic.Bool
	// retry is the tenant's retry secret (Config.RetryWindow).
	retry retrySecret
	// admission bounds the signatures in flight (Config.MaxSigningsInFlight).
	admission *admission
	// reuse keeps client-credentials tokens for reuse
	// (Config.ClientCredentialsReuseWindow).
	reuse *reusedTokens
	// revocations mirrors the store's revocations (Config.RevocationPush).
	revocations *revocationFeed
	// nonces makes the DPoP nonces (Config.DPoPNonce), once derived.
	nonces atomic.Pointer[token.DPoPNonces]
	// logouts delivers back-channel logout tokens.
	logouts *backchannel
}

// New validates cfg, fills in its defaults and returns a Server. When
// cfg.Keys is nil it loads the signing keys from the store, creating an RS256
// key on first use: ctx bounds that I/O (give it a deadline so a store that
// does not answer cannot hold start-up), and a ctx already done fails New
// with ctx's error before any key is created. ctx is not kept: the Server
// does not stop when it is cancelled; it keeps reloading its keys in the
// background until Close. New returns an error rather than panicking.
func New(ctx context.Context, cfg Config) (*Server, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.Now != nil {
		c.Store = c.Store.WithClock(c.Now)
	}
	s := &Server{cfg: c, store: c.Store, grants: make(map[string]Grant, len(c.Grants))}
	for _, g := range c.Grants {
		s.grants[g.GrantType()] = g
	}
	s.caps = newGrantCaps(c.Grants)
	s.events = s.eventChain()
	s.keys = &storeKeys{set: c.Keys, now: c.Now, interval: c.KeyReloadInterval, publishDelay: c.KeyPublishDelay,
		logger: c.Logger, emit: s.emit, vault: keyVault{wrapper: c.KeyWrapper, issuer: c.Issuer, logger: c.Logger}}
	if c.Keys == nil {
		s.keys.set, s.keys.store = token.NewKeySet(), c.Store
		if err := s.keys.bootstrap(ctx); err != nil {
			return nil, err
		}
		s.keys.startSync()
	}
	s.endpoints = newEndpoints(c.Issuer)
	s.clientAuth = s.clientAuthenticators()
	s.clientKeys = newRemoteClientKeys(c.ClientJWKSClient, c.Now)
	s.cache = resource.NewCache(c.VerifiedTokenCache)
	s.admission = newAdmission(c.MaxSigningsInFlight, c.MaxSigningsQueued, c.SigningQueueTimeout)
	s.revocations = s.startRevocationFeed()
	s.reuse = newReusedTokens(c.ClientCredentialsReuseWindow)
	s.reservedHosts = reservedHosts(c)
	s.userinfoAuthorizer = s.Authorizer(s.endpoints.url(s.endpoints.userinfo)).
		WithDPoPBaseURL(strings.TrimSuffix(s.endpoints.base, s.endpoints.path))
	s.defaultAuthorizer = s.Authorizer("")
	s.logouts = newBackchannel(s)
	return s, nil
}

// Issuer returns the issuer identifier.
func (s *Server) Issuer() string { return s.cfg.Issuer }

// Store returns the server's store.
func (s *Server) Store() storage.Store { return s.store }

// Now returns the server clock's current time.
func (s *Server) Now() time.Time { return s.cfg.Now() }

// GrantTypes returns the grant types the server runs, in configuration order.
func (s *Server) GrantTypes() []string {
	out := make([]string, 0, len(s.cfg.Grants))
	for _, g := range s.cfg.Grants {
		out = append(out, g.GrantType())
	}
	return out
}

// verifier returns a token verifier of this server's access tokens for the
// audience.
func (s *Server) verifier(audience string) *token.Verifier {
	return &token.Verifier{
		Issuer:     s.cfg.Issuer,
		Audience:   audience,
		Algorithms: allAlgorithms,
		Keys:       s.keys,
		Types:      []string{token.TypeAccessToken},
		Leeway:     s.cfg.Leeway,
		Now:        s.cfg.Now,
	}
}

// allAlgorithms is the allow-list of the server's own tokens: the asymmetric
// algorithms it can sign with. "none" and HMAC are never accepted.
var allAlgorithms = []string{token.RS256, token.PS256, token.ES256, token.EdDSA}

// reservedHosts lists the issuer's host and the configured reserved hosts,
// normalised as claim namespaces are (normalizeHost).
func reservedHosts(c Config) []string {
	u, _ := url.Parse(c.Issuer) // validated
	out := []string{normalizeHost(u.Hostname())}
	for _, h := range c.ReservedClaimHosts {
		out = append(out, normalizeHost(strings.TrimSpace(h)))
	}
	return out
}
