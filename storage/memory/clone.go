package memory

import (
	"encoding/json"

	"github.com/scopekit/scopekit/storage"
)

// Records are deep-copied in and out of the store so that no caller shares
// memory with it.

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}

// cloneValue deep-copies the JSON-like values found in metadata and claims.
func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	case []string:
		return cloneStrings(x)
	default:
		return v
	}
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneAPI(a *storage.API) *storage.API {
	c := *a
	if a.Scopes != nil {
		c.Scopes = append([]storage.Scope(nil), a.Scopes...)
	}
	c.TokenExchange = a.TokenExchange.Clone()
	return &c
}

func cloneClient(a *storage.Client) *storage.Client {
	c := *a
	if a.SecretHash != nil {
		c.SecretHash = append([]byte(nil), a.SecretHash...)
	}
	c.RedirectURIs = cloneStrings(a.RedirectURIs)
	c.GrantTypes = cloneStrings(a.GrantTypes)
	c.ResponseTypes = cloneStrings(a.ResponseTypes)
	c.IntrospectAudiences = cloneStrings(a.IntrospectAudiences)
	c.AllowedOrigins = cloneStrings(a.AllowedOrigins)
	if a.JWKS != nil {
		c.JWKS = append(json.RawMessage(nil), a.JWKS...)
	}
	return &c
}

func cloneClientGrant(a *storage.ClientGrant) *storage.ClientGrant {
	c := *a
	c.Scopes = cloneStrings(a.Scopes)
	return &c
}

func cloneUser(a *storage.User) *storage.User {
	c := *a
	if a.Address != nil {
		addr := *a.Address
		c.Address = &addr
	}
	c.UserMetadata = cloneMap(a.UserMetadata)
	c.AppMetadata = cloneMap(a.AppMetadata)
	c.Roles = cloneStrings(a.Roles)
	c.Groups = cloneStrings(a.Groups)
	return &c
}

func cloneRole(a *storage.Role) *storage.Role {
	c := *a
	if a.Permissions != nil {
		c.Permissions = append([]storage.Permission(nil), a.Permissions...)
	}
	return &c
}

func cloneGroup(a *storage.Group) *storage.Group {
	c := *a
	c.Roles = cloneStrings(a.Roles)
	return &c
}

func cloneConsent(a *storage.Consent) *storage.Consent {
	c := *a
	c.Scopes = cloneStrings(a.Scopes)
	return &c
}

func cloneKey(a *storage.SigningKey) *storage.SigningKey {
	c := *a
	if a.JWK != nil {
		c.JWK = append([]byte(nil), a.JWK...)
	}
	return &c
}

func cloneAuthRequest(a *storage.AuthRequest) *storage.AuthRequest {
	c := *a
	c.Scopes = cloneStrings(a.Scopes)
	c.Prompt = cloneStrings(a.Prompt)
	if a.Extra != nil {
		c.Extra = make(map[string]string, len(a.Extra))
		for k, v := range a.Extra {
			c.Extra[k] = v
		}
	}
	return &c
}

func cloneCode(a *storage.AuthCode) *storage.AuthCode {
	c := *a
	c.RequestedScopes = cloneStrings(a.RequestedScopes)
	c.Scopes = cloneStrings(a.Scopes)
	c.IDTokenClaims = cloneMap(a.IDTokenClaims)
	c.AccessTokenClaims = cloneMap(a.AccessTokenClaims)
	return &c
}

func cloneFamily(a *storage.Family) *storage.Family {
	c := *a
	c.Scopes = cloneStrings(a.Scopes)
	c.Claims = cloneMap(a.Claims)
	return &c
}

func cloneRefresh(a *storage.RefreshToken) *storage.RefreshToken {
	c := *a
	c.Scopes = cloneStrings(a.Scopes)
	return &c
}

func cloneDevice(d *storage.DeviceCode) *storage.DeviceCode {
	c := *d
	c.RequestedScopes = cloneStrings(d.RequestedScopes)
	c.Scopes = cloneStrings(d.Scopes)
	c.IDTokenClaims = cloneMap(d.IDTokenClaims)
	c.AccessTokenClaims = cloneMap(d.AccessTokenClaims)
	return &c
}
