package grant

import (
	"context"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
)

// DeviceCode is the device authorization grant (RFC 8628): a device
// without a browser shows a user code, the user approves it on the
// verification page (/device, signed in through Config.Login, with the
// consent page of /authorize), and the device polls the token endpoint
// with its device code. Registering it enables the device authorization
// endpoint /oauth/device/code and the verification page. A device code is
// taken once: of concurrent polls exactly one gets tokens, the others
// invalid_grant. See docs/DEVICE.md.
type DeviceCode struct{}

// GrantType implements authz.Grant.
func (DeviceCode) GrantType() string { return oauth.GrantDeviceCode }

// Capabilities implements authz.Capable: the grant redeems device codes.
func (DeviceCode) Capabilities() authz.Capabilities {
	return authz.Capabilities{DeviceAuthorization: true}
}

// Decide implements authz.Grant (RFC 8628 §3.4-3.5).
func (DeviceCode) Decide(ctx context.Context, x *authz.Exchange) (*authz.Decision, error) {
	raw := x.Request.Params.Get("device_code")
	if raw == "" {
		return nil, oauth.ErrInvalidRequest.WithDescription("device_code is required")
	}
	dc, err := x.Devices.Poll(ctx, x.Client, raw)
	if err != nil {
		return nil, err
	}
	user, err := x.Directory.User(ctx, dc.Subject)
	if err != nil {
		return nil, err
	}
	d := &authz.Decision{
		Trigger: authz.TriggerLogin, GrantType: oauth.GrantDeviceCode, Subject: user.ID, User: user,
		RequestedScopes: dc.RequestedScopes, Scopes: dc.Scopes, Family: dc.Family,
		AuthTime: dc.AuthTime, Claims: dc.IDTokenClaims, AccessClaims: dc.AccessTokenClaims,
	}
	if dc.Audience != "" {
		if d.API, err = x.Directory.API(ctx, dc.Audience); err != nil {
			return nil, err
		}
	}
	d.IssueRefresh = x.Policy.OfflineAccess(x.Client, d.API, d.Scopes)
	return d, nil
}
