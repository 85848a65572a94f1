package resource

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/token"
)

// Replay remembers single-use values: the jti of the DPoP proofs an
// authorizer accepted (RFC 9449 §11.1). The issuer's storage.Store
// satisfies it. An error fails the request closed.
type Replay interface {
	UseOnce(ctx context.Context, key string, expiresAt time.Time) (fresh bool, err error)
}

// dpopScheme is the authorization scheme of DPoP-bound tokens (RFC 9449 §7.1).
const dpopScheme = "DPoP "

// AuthorizeDPoP checks a DPoP-bound access token presented with the DPoP
// scheme and its proof (RFC 9449 §7.1): the token as Authorize does
// (cached or not), then, on every call, the proof for this request (method
// and htu, iat, ath of the token, jti used once when Config.DPoPReplay is
// set) and the binding: the token's cnf.jkt must be the thumbprint of the
// proof's key. htu is the request URL as the client sent it (see
// Config.DPoPBaseURL). A bad proof is invalid_dpop_proof, an unbound token
// invalid_token.
func (a *Authorizer) AuthorizeDPoP(ctx context.Context, raw, proof, method, htu string, req Requirement) (*Principal, error) {
	p, cached, err := a.authorizeDPoP(ctx, raw, proof, method, htu, req)
	a.report(ctx, err, cached)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// authorizeDPoP is AuthorizeDPoP; cached tells whether the token itself
// was answered from the verified-token cache.
func (a *Authorizer) authorizeDPoP(ctx context.Context, raw, proof, method, htu string, req Requirement) (p *Principal, cached bool, err error) {
	if proof == "" {
		return nil, false, oauth.ErrInvalidDPoPProof.WithDescription("the DPoP header is required with the DPoP scheme")
	}
	p, cached, err = a.verify(ctx, raw, req.Audience)
	if err != nil {
		return nil, cached, err
	}
	if p.JKT == "" {
		return nil, cached, oauth.ErrInvalidToken.WithDescription("the token is not DPoP-bound")
	}
	pr, err := a.dpop.Verify(proof, token.DPoPRequest{Method: method, URL: htu, AccessToken: raw})
	if err != nil {
		return nil, cached, oauth.ErrInvalidDPoPProof.WithDescription(DPoPDescription(err)).WithCause(err)
	}
	if pr.JKT != p.JKT {
		return nil, cached, oauth.ErrInvalidDPoPProof.WithDescription("the DPoP proof's key is not the one the token is bound to")
	}
	if a.dpopReplay != nil {
		aud := req.Audience
		if aud == "" {
			aud = a.audience
		}
		fresh, err := a.dpopReplay.UseOnce(ctx, "dpop:api:"+token.Hash(aud+"\x00"+pr.JKT+"\x00"+pr.JTI), pr.IssuedAt.Add(a.dpop.WindowOf()))
		if err != nil {
			return nil, cached, oauth.ErrTemporarilyUnavailable.WithCause(err)
		}
		if !fresh {
			return nil, cached, oauth.ErrInvalidDPoPProof.WithDescription("the DPoP proof was used before")
		}
	}
	if err := p.check(req); err != nil {
		return nil, cached, err
	}
	return p, cached, nil
}

// AuthorizeRequest reads the access token of r, with the Bearer scheme
// (RFC 6750) or the DPoP scheme and its proof (RFC 9449 §7), and checks it
// against req. On failure it writes the challenge (Challenge, or the DPoP
// challenge for a DPoP request) and reports false.
func (a *Authorizer) AuthorizeRequest(w http.ResponseWriter, r *http.Request, req Requirement) (*Principal, bool) {
	h := r.Header.Get("Authorization")
	if len(h) > len(dpopScheme) && strings.EqualFold(h[:len(dpopScheme)], dpopScheme) {
		raw := strings.TrimSpace(h[len(dpopScheme):])
		proofs := r.Header.Values("DPoP")
		var p *Principal
		var err error
		switch {
		case raw == "":
			err = oauth.ErrInvalidToken.WithDescription("no token")
		case len(proofs) != 1:
			err = oauth.ErrInvalidDPoPProof.WithDescription("exactly one DPoP header is required")
		default:
			p, err = a.AuthorizeDPoP(r.Context(), raw, proofs[0], r.Method, a.requestURL(r), req)
		}
		if err != nil {
			a.ChallengeDPoP(w, err)
			return nil, false
		}
		return p, true
	}
	raw, ok := a.Bearer(w, r)
	if !ok {
		return nil, false
	}
	p, err := a.Authorize(r.Context(), raw, req)
	if err != nil {
		a.Challenge(w, err)
		return nil, false
	}
	return p, true
}

// requestURL is the htu a proof for r must name: Config.DPoPBaseURL and
// the request path, or else the URL r reached this server by.
func (a *Authorizer) requestURL(r *http.Request) string {
	if a.dpopBase != "" {
		return a.dpopBase + r.URL.EscapedPath()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.EscapedPath()
}

// ChallengeDPoP writes the RFC 9449 §7.1 answer for a request with the
// DPoP scheme: 401 with `WWW-Authenticate: DPoP error=..., algs="..."` for
// an invalid token or proof, 403 for insufficient_scope, otherwise as
// Challenge does.
func (a *Authorizer) ChallengeDPoP(w http.ResponseWriter, err error) {
	e := asError(err)
	if !e.Is(oauth.ErrInvalidToken) && !e.Is(oauth.ErrInvalidDPoPProof) && !e.Is(oauth.ErrInsufficientScope) {
		a.Challenge(w, err)
		return
	}
	var b strings.Builder
	b.WriteString(a.dpopChallenge())
	b.WriteString(`, error="` + e.Code + `"`)
	if e.Description != "" {
		b.WriteString(", error_description=" + strconv.Quote(e.Description))
	}
	if e.Scope != "" {
		b.WriteString(", scope=" + strconv.Quote(e.Scope))
	}
	w.Header().Set("WWW-Authenticate", b.String())
	if e.Is(oauth.ErrInvalidDPoPProof) {
		c := *e
		c.Status = http.StatusUnauthorized
		e = &c
	}
	oauth.WriteError(w, e)
}

// dpopChallenge is the bare DPoP challenge: realm and accepted algorithms.
func (a *Authorizer) dpopChallenge() string {
	algs := a.dpop.Algorithms
	if algs == nil {
		algs = token.DPoPAlgorithms
	}
	return "DPoP realm=" + strconv.Quote(a.realm) + `, algs="` + strings.Join(algs, " ") + `"`
}

// DPoPDescription is the public reason a DPoP proof was refused, naming
// the failed check (token endpoint and resource servers alike).
func DPoPDescription(err error) string {
	switch {
	case errors.Is(err, token.ErrTooLarge):
		return "the DPoP proof is too large"
	case errors.Is(err, token.ErrAlgorithm):
		return "the DPoP proof's algorithm is not accepted"
	case errors.Is(err, token.ErrType):
		return "the DPoP proof's typ must be dpop+jwt"
	case errors.Is(err, token.ErrDPoPKey):
		return "the DPoP proof's jwk must be a public key of its algorithm"
	case errors.Is(err, token.ErrDPoPRequest):
		return "the DPoP proof is for another method or URL"
	case errors.Is(err, token.ErrDPoPTime):
		return "the DPoP proof's iat is too old or in the future"
	case errors.Is(err, token.ErrDPoPAccessToken):
		return "the DPoP proof's ath is not the access token's hash"
	case errors.Is(err, token.ErrMissingClaim):
		return "the DPoP proof lacks a jti"
	}
	return "the DPoP proof is malformed or its signature is invalid"
}

// WithDPoPBaseURL returns a copy of a whose DPoP proofs must name base
// followed by the request path as htu (see Config.DPoPBaseURL), for an
// authorizer made by someone else, such as authz.Server.Authorizer.
func (a *Authorizer) WithDPoPBaseURL(base string) *Authorizer {
	c := *a
	c.dpopBase = strings.TrimRight(base, "/")
	return &c
}
