package authz

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// deviceFlow reports whether the server runs the device authorization
// grant: a grant redeems device codes and a login hook signs users in on
// the verification page.
func (s *Server) deviceFlow() bool { return s.caps.device && s.cfg.Login != nil }

// handleDevice registers the device endpoints when the flow runs.
func (s *Server) handleDevice(mux *http.ServeMux) {
	if !s.deviceFlow() {
		return
	}
	e := s.endpoints
	mux.HandleFunc(e.deviceCode, s.serveDeviceCode)
	mux.HandleFunc(e.device, s.serveDevicePage)
	mux.HandleFunc(e.deviceResume, s.serveDeviceResume)
	mux.HandleFunc(e.deviceConsent, s.serveDeviceConsent)
}

// deviceAuthorization is the device authorization response (RFC 8628 §3.2).
type deviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// serveDeviceCode is the device authorization endpoint (RFC 8628 §3.1).
func (s *Server) serveDeviceCode(w http.ResponseWriter, r *http.Request) {
	form, err := s.readForm(w, r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	req, err := s.parseTokenRequest(r, form)
	if err != nil {
		s.writeError(w, err)
		return
	}
	resp, err := s.authorizeDevice(r.Context(), req)
	if err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// maxUserCodeDraws bounds the user codes drawn for one device code when
// the drawn one is taken by a live record.
const maxUserCodeDraws = 4

// authorizeDevice authenticates the client as the token endpoint does,
// checks that it may use the device grant and that the audience exists
// (as /authorize does), and stores a pending device code.
func (s *Server) authorizeDevice(ctx context.Context, req *TokenRequest) (*deviceAuthorization, error) {
	res, aud, err := s.resolveClient(ctx, req)
	if err != nil {
		return nil, s.authFailed(ctx, req, err)
	}
	if !contains(res.Client.GrantTypes, oauth.GrantDeviceCode) {
		return nil, oauth.ErrUnauthorizedClient.WithDescription("the client may not use the device authorization grant")
	}
	if aud != "" && res.API == nil {
		return nil, oauth.ErrInvalidTarget.WithDescription("unknown audience")
	}
	now := s.cfg.Now()
	for range maxUserCodeDraws {
		uc := newUserCode()
		raw := newDeviceCode(uc)
		d := &storage.DeviceCode{
			UserCode: userCodeKey(uc), Hash: token.Hash(raw), ClientID: res.Client.ID, Audience: aud,
			RequestedScopes: req.Scopes, Status: storage.DevicePending, Interval: s.cfg.DevicePollInterval,
			LastPoll: now.UTC(), ExpiresAt: now.Add(s.cfg.DeviceCodeLifetime).UTC(),
			// An expired code is answered expired_token as long again.
			RetainUntil: now.Add(2 * s.cfg.DeviceCodeLifetime).UTC(),
		}
		err := s.store.CreateDeviceCode(ctx, d)
		if errors.Is(err, storage.ErrDuplicate) {
			continue
		}
		if err != nil {
			return nil, err
		}
		verify := s.endpoints.url(s.endpoints.device)
		return &deviceAuthorization{
			DeviceCode: raw, UserCode: formatUserCode(uc), VerificationURI: verify,
			VerificationURIComplete: verify + "?" + url.Values{"user_code": {formatUserCode(uc)}}.Encode(),
			ExpiresIn:               int64(s.cfg.DeviceCodeLifetime.Seconds()), Interval: int64(s.cfg.DevicePollInterval.Seconds()),
		}, nil
	}
	return nil, oauth.ErrTemporarilyUnavailable.WithDescription("no free user code: try again")
}
