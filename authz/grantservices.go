package authz

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// grantCaps is what the server learned from its grants' Capabilities in New.
type grantCaps struct {
	// code reports that a grant redeems /authorize's codes.
	code bool
	// refresh are the grant types that redeem refresh tokens.
	refresh []string
	// clientTokens is the first grant issuing a client's own tokens.
	clientTokens Grant
	// device reports that a grant redeems device codes.
	device bool
}

// newGrantCaps reads the capabilities of the grants, once.
func newGrantCaps(grants []Grant) grantCaps {
	var gc grantCaps
	for _, g := range grants {
		cg, ok := g.(Capable)
		if !ok {
			continue
		}
		c := cg.Capabilities()
		gc.code = gc.code || c.AuthorizationEndpoint
		gc.device = gc.device || c.DeviceAuthorization
		if c.RefreshTokens {
			gc.refresh = append(gc.refresh, g.GrantType())
		}
		if c.ClientTokens && gc.clientTokens == nil {
			gc.clientTokens = g
		}
	}
	return gc
}

// offlineAllowed reports whether refresh tokens may be issued to the client
// for the API (nil: none): the client may use a grant that redeems them,
// and the API allows offline access.
func (s *Server) offlineAllowed(c *storage.Client, api *storage.API) bool {
	return (api == nil || api.AllowOfflineAccess) && slices.ContainsFunc(s.caps.refresh, func(gt string) bool {
		return contains(c.GrantTypes, gt)
	})
}

// exchange builds what a grant gets: the request and its parties, and the
// server's services, never the server. The code service tells whether the
// grant redeemed a code.
func (s *Server) exchange(req *TokenRequest, res *storage.Resolution, aud string, now time.Time) (*Exchange, *codeService) {
	// One allocation holds the exchange and its per-request services.
	x := &exchangeParts{
		cs:  codeService{s: s, client: res.Client, verifier: req.CodeVerifier, now: now},
		fam: familyService{s: s, now: now, jkt: req.dpopJKT},
	}
	x.Exchange = Exchange{
		Request: req, Client: res.Client, API: res.API, ClientGrant: res.Grant, Audience: aud, Now: now,
		Codes: &x.cs, Families: &x.fam, Directory: directory{s}, Policy: policy{s}, Devices: deviceService{&x.cs},
		Subjects: subjects{s},
	}
	return &x.Exchange, &x.cs
}

// exchangeParts is an Exchange with the services that hold per-request
// state, allocated together.
type exchangeParts struct {
	Exchange
	cs  codeService
	fam familyService
}

// codeService implements Codes for one exchange.
type codeService struct {
	s *Server
	// client and verifier are the exchange's authenticated client and its
	// PKCE verifier: a retry of a code's first exchange must repeat both.
	client   *storage.Client
	verifier string
	now      time.Time
	// redeemed is set once a code was consumed: the rules ran for it at
	// /authorize.
	redeemed bool
	// code is the code redeemed.
	code string
}

// Redeem implements Codes. A code already used is answered as a retry of
// its first exchange (the same grant, so the same tokens) when
// Server.codeRetry says it is one; otherwise it is a replay.
func (cs *codeService) Redeem(ctx context.Context, code string) (*storage.AuthCode, error) {
	store := cs.s.store
	c, err := store.ConsumeCode(ctx, token.Hash(code))
	if errors.Is(err, storage.ErrAlreadyUsed) {
		first, rerr := cs.s.codeRetry(ctx, code, c, cs.client, cs.verifier, cs.now)
		if rerr != nil {
			return nil, rerr
		}
		if first != nil {
			c, err = first, nil
		}
	}
	switch {
	case errors.Is(err, storage.ErrAlreadyUsed):
		// The family may not exist yet when the first exchange is still
		// running: the store then records the revocation so that the
		// first exchange's CreateFamily fails (mint answers invalid_grant).
		// A failure is the store's and is answered as such rather than
		// leaving tokens live.
		if rerr := store.RevokeFamily(ctx, c.Family); rerr != nil {
			return nil, rerr
		}
		cs.s.codeReplayed(ctx, c.ClientID, c.Family)
		return nil, oauth.ErrInvalidGrant.WithDescription("the code was already used: its tokens are revoked")
	case errors.Is(err, storage.ErrNotFound):
		return nil, oauth.ErrInvalidGrant.WithDescription("invalid or expired code")
	case err != nil:
		return nil, err
	}
	cs.redeemed, cs.code = true, code
	return c, nil
}

// familyService implements Families.
type familyService struct {
	s   *Server
	now time.Time
	// jkt is the thumbprint of the request's DPoP key, empty without a
	// proof: a bound refresh token needs the key it is bound to.
	jkt string
}

// Continue implements Families.
func (fs familyService) Continue(ctx context.Context, client *storage.Client, raw string) (*Continuation, error) {
	store := fs.s.store
	family, _, ok := strings.Cut(raw, ".")
	if !ok || family == "" || len(raw) > 512 {
		return nil, oauth.ErrInvalidGrant.WithDescription("invalid refresh token")
	}
	hash := token.Hash(raw)
	rt, err := store.GetRefresh(ctx, family, hash)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrRevoked):
		return nil, oauth.ErrInvalidGrant.WithDescription("invalid refresh token")
	case err != nil:
		return nil, err
	}
	if rt.ClientID != client.ID {
		return nil, oauth.ErrInvalidGrant.WithDescription("the refresh token was issued to another client")
	}
	if err := checkRefreshBinding(rt, fs.jkt); err != nil {
		return nil, err
	}
	next, err := fs.s.nextRefresh(ctx, family, labelAfterRefresh, raw)
	if err != nil {
		return nil, err
	}
	retry := false
	if rt.Used {
		if retry, err = fs.s.rotationRetry(ctx, client, rt, next, fs.jkt, fs.now); err != nil {
			return nil, err
		}
	}
	if rt.Used && !retry {
		if rerr := store.RevokeFamily(ctx, family); rerr != nil {
			return nil, rerr
		}
		fs.s.refreshReused(ctx, rt.ClientID, rt.Subject, family)
		return nil, oauth.ErrInvalidGrant.WithDescription("refresh token reused: the grant is revoked")
	}
	fam, err := store.GetFamily(ctx, family)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, oauth.ErrInvalidGrant.WithDescription("invalid refresh token")
		}
		return nil, err
	}
	dir := directory{fs.s}
	user, err := dir.User(ctx, rt.Subject)
	if err != nil {
		return nil, err
	}
	var api *storage.API
	if rt.Audience != "" {
		if api, err = dir.API(ctx, rt.Audience); err != nil {
			return nil, err
		}
	}
	return &Continuation{
		client: client.ID, family: family, hash: hash, next: next, retry: retry, familyExp: fam.ExpiresAt,
		user: user, api: api, scopes: rt.Scopes, authTime: fam.AuthTime, claims: fam.Claims, jkt: rt.JKT,
	}, nil
}

// directory implements Directory.
type directory struct{ s *Server }

// User implements Directory.
func (d directory) User(ctx context.Context, id string) (*storage.User, error) {
	u, err := d.s.store.Users().Get(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oauth.ErrInvalidGrant.WithDescription("the user no longer exists")
	}
	return u, err
}

// API implements Directory.
func (d directory) API(ctx context.Context, identifier string) (*storage.API, error) {
	api, err := d.s.store.APIs().Get(ctx, identifier)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oauth.ErrInvalidGrant.WithDescription("the API no longer exists")
	}
	return api, err
}

// policy implements Policy.
type policy struct{ s *Server }

// OfflineAccess implements Policy.
func (p policy) OfflineAccess(c *storage.Client, api *storage.API, scopes []string) bool {
	return contains(scopes, oauth.ScopeOfflineAccess) && p.s.offlineAllowed(c, api)
}

// Redecide implements Policy.
func (p policy) Redecide(ctx context.Context, c *storage.Client, cont *Continuation) ([]string, bool, error) {
	if cont == nil || c.ID != cont.client {
		return nil, false, errors.New("authz: continuation of another client")
	}
	kept, consented, err := p.s.refreshScopes(ctx, c, cont.api, cont.user, cont.scopes)
	if err != nil {
		return nil, false, err
	}
	cont.kept, cont.redecided = slices.Clone(kept), true
	if cont.kept == nil {
		cont.kept = []string{}
	}
	return kept, consented, nil
}
