package authz

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net/http"
	"slices"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// dpopReplayPrefix namespaces the jti of DPoP proofs presented at the
// token endpoint in the replay cache (storage.Replay), apart from client
// assertions and from resource servers' proofs.
const dpopReplayPrefix = "dpop:token:"

// tokenDPoP checks the DPoP proof of a token request from an
// authenticated client (RFC 9449 §4.3, §5): a proof for POST at the token
// endpoint, its jti used once, with the server's nonce when Config.DPoPNonce
// is set. A valid proof's key thumbprint is recorded in req. Without a
// proof, a client or an explicitly requested API that requires DPoP
// refuses the request.
func (s *Server) tokenDPoP(ctx context.Context, req *TokenRequest, res *storage.Resolution) error {
	req.dpopJKT = ""
	if req.DPoP == "" {
		if res.Client.RequireDPoP || (req.Audience != "" && res.API != nil && res.API.RequireDPoP) {
			return errDPoPRequired
		}
		return nil
	}
	dr := token.DPoPRequest{Method: http.MethodPost, URL: s.endpoints.url(s.endpoints.token)}
	if s.cfg.DPoPNonce {
		n, err := s.dpopNonces(ctx)
		if err != nil {
			return err
		}
		dr.Nonces = n
	}
	v := token.DPoPVerifier{Window: s.cfg.DPoPProofWindow, Now: s.cfg.Now}
	p, err := v.Verify(req.DPoP, dr)
	if err != nil {
		return dpopError(err)
	}
	fresh, err := s.store.UseOnce(ctx, dpopReplayPrefix+p.JKT+":"+token.Hash(p.JTI), p.IssuedAt.Add(v.WindowOf()))
	if err != nil {
		return err
	}
	if !fresh {
		return oauth.ErrInvalidDPoPProof.WithDescription("the DPoP proof was used before")
	}
	req.dpopJKT = p.JKT
	return nil
}

// errDPoPRequired answers a token request without a proof for a client or
// API that requires DPoP.
var errDPoPRequired = oauth.ErrInvalidDPoPProof.WithDescription("a DPoP proof is required")

// dpopError turns a proof verification failure into the token endpoint's
// answer: use_dpop_nonce for a missing or stale nonce (RFC 9449 §8),
// invalid_dpop_proof naming the failed check otherwise (§5).
func dpopError(err error) *oauth.Error {
	if errors.Is(err, token.ErrDPoPNonce) {
		return oauth.ErrUseDPoPNonce.WithDescription("the DPoP proof must carry the server's nonce (DPoP-Nonce)").WithCause(err)
	}
	return oauth.ErrInvalidDPoPProof.WithDescription(resource.DPoPDescription(err)).WithCause(err)
}

// dpopRequired refuses a decision for an API that requires DPoP made
// without a proof (the API of a code or a refresh token is known only
// after the grant decided).
func dpopRequired(req *TokenRequest, api *storage.API) error {
	if req.dpopJKT == "" && api != nil && api.RequireDPoP {
		return errDPoPRequired
	}
	return nil
}

// checkRefreshBinding refuses an unused refresh token bound to a DPoP key
// presented without a proof of that key (RFC 9449 §5). A used one is
// judged by reuse detection: its retry must present the same key too
// (Server.rotationRetry), else the family is revoked.
func checkRefreshBinding(rt *storage.RefreshToken, jkt string) error {
	switch {
	case rt.JKT == "" || rt.Used:
		return nil
	case jkt == "":
		return oauth.ErrInvalidDPoPProof.WithDescription("the refresh token is DPoP-bound: a proof of its key is required")
	case jkt != rt.JKT:
		return oauth.ErrInvalidGrant.WithDescription("the refresh token is bound to another DPoP key")
	}
	return nil
}

// refreshBinding is the DPoP key a new refresh token is bound to: a public
// client's proof key, kept through rotations (RFC 9449 §5); a confidential
// client's refresh tokens are bound to its credentials instead, not to a key.
func refreshBinding(c *storage.Client, d *Decision) string {
	if !c.Public {
		return ""
	}
	if d.Continuation != nil && d.Continuation.jkt != "" {
		return d.Continuation.jkt
	}
	return d.jkt
}

// dpopNonces returns the tenant's nonce source, keyed by a secret derived
// from the tenant's stored retry secret, so every replica makes and
// accepts the same nonces.
func (s *Server) dpopNonces(ctx context.Context) (*token.DPoPNonces, error) {
	if n := s.nonces.Load(); n != nil {
		return n, nil
	}
	key, err := s.retryKey(ctx)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("scopekit dpop nonce"))
	n := token.NewDPoPNonces(m.Sum(nil), 0, s.cfg.Now)
	s.nonces.Store(n)
	return n, nil
}

// setDPoPNonce sends the current nonce with a token endpoint response when
// nonces are required (RFC 9449 §8.1): a client learns it from any answer.
func (s *Server) setDPoPNonce(ctx context.Context, w http.ResponseWriter) {
	if !s.cfg.DPoPNonce {
		return
	}
	if n, err := s.dpopNonces(ctx); err == nil {
		w.Header().Set("DPoP-Nonce", n.Current())
	}
}

// dpopHeader reads the DPoP header of a token request: at most one.
func dpopHeader(r *http.Request) (string, error) {
	v := r.Header.Values("DPoP")
	if len(v) > 1 {
		return "", oauth.ErrInvalidDPoPProof.WithDescription("more than one DPoP header")
	}
	if len(v) == 0 {
		return "", nil
	}
	return v[0], nil
}

// frontChannelToken is the response type that delivers an access token
// from /authorize, where no DPoP proof can be presented.
const frontChannelToken = "id_token token"

// checkClientDPoP refuses a client that requires DPoP-bound access tokens
// (dpop_bound_access_tokens, RFC 9449 §5.2) but registers the implicit
// response that issues them from /authorize as bearer tokens.
func checkClientDPoP(c *storage.Client, bad func(field string, err error)) {
	if c.RequireDPoP && slices.Contains(c.ResponseTypes, frontChannelToken) {
		bad("dpop_bound_access_tokens", errors.New(`authz: a client requiring DPoP cannot use response type "id_token token": its access token would be a bearer token`))
	}
}

// implicitDPoP refuses an access token from /authorize for a client or an
// API that requires DPoP: it could not be bound to a key.
func implicitDPoP(responseType string, c *storage.Client, api *storage.API) error {
	if responseType == frontChannelToken && (c.RequireDPoP || api != nil && api.RequireDPoP) {
		return oauth.ErrInvalidRequest.WithDescription("DPoP is required: use the authorization code flow")
	}
	return nil
}
