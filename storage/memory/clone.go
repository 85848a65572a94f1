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
	c := new(storage.API)
	copyAPI(c, a, nil)
	return c
}

// copyAPI copies a into dst, its scopes into scopes when they fit.
func copyAPI(dst, a *storage.API, scopes []storage.Scope) {
	*dst = *a
	if a.Scopes != nil {
		dst.Scopes = append(scopes[:0:min(len(a.Scopes), cap(scopes))], a.Scopes...)
	}
	dst.TokenExchange = a.TokenExchange.Clone()
}

func cloneClient(a *storage.Client) *storage.Client {
	c := new(storage.Client)
	ar := make(strs, 0, clientStrings(a))
	copyClient(c, a, &ar, nil)
	return c
}

// clientStrings is the number of strings in a client's slices.
func clientStrings(a *storage.Client) int {
	return len(a.RedirectURIs) + len(a.PostLogoutRedirectURIs) + len(a.GrantTypes) + len(a.ResponseTypes) +
		len(a.IntrospectAudiences) + len(a.AllowedOrigins)
}

// copyClient copies a into dst, its strings into ar and its secret hash
// into hash when it fits.
func copyClient(dst, a *storage.Client, ar *strs, hash []byte) {
	*dst = *a
	if a.SecretHash != nil {
		dst.SecretHash = append(hash[:0:min(len(a.SecretHash), cap(hash))], a.SecretHash...)
	}
	dst.RedirectURIs = ar.clone(a.RedirectURIs)
	dst.PostLogoutRedirectURIs = ar.clone(a.PostLogoutRedirectURIs)
	dst.GrantTypes = ar.clone(a.GrantTypes)
	dst.ResponseTypes = ar.clone(a.ResponseTypes)
	dst.IntrospectAudiences = ar.clone(a.IntrospectAudiences)
	dst.AllowedOrigins = ar.clone(a.AllowedOrigins)
	if a.JWKS != nil {
		dst.JWKS = append(json.RawMessage(nil), a.JWKS...)
	}
}

func cloneClientGrant(a *storage.ClientGrant) *storage.ClientGrant {
	c := *a
	c.Scopes = cloneStrings(a.Scopes)
	return &c
}

// resolution copies what Resolve found in two allocations: the records
// together (with a secret hash and up to resolvedScopes API scopes), and
// their strings together.
func resolution(c *storage.Client, a *storage.API, g *storage.ClientGrant) *storage.Resolution {
	r := new(struct {
		res    storage.Resolution
		c      storage.Client
		a      storage.API
		g      storage.ClientGrant
		hash   [32]byte
		scopes [resolvedScopes]storage.Scope
	})
	n := 0
	if c != nil {
		n += clientStrings(c)
	}
	if g != nil {
		n += len(g.Scopes)
	}
	ar := make(strs, 0, n)
	if c != nil {
		copyClient(&r.c, c, &ar, r.hash[:])
		r.res.Client = &r.c
	}
	if a != nil {
		copyAPI(&r.a, a, r.scopes[:])
		r.res.API = &r.a
	}
	if g != nil {
		r.g = *g
		r.g.Scopes = ar.clone(g.Scopes)
		r.res.Grant = &r.g
	}
	return &r.res
}

// resolvedScopes is how many API scopes a resolution holds without an
// allocation of their own.
const resolvedScopes = 8

// strs copies string slices into one backing array, so that a record's
// slices cost one allocation. Each copy is capped at its length: an append
// to one never writes into the next.
type strs []string

func (a *strs) clone(s []string) []string {
	if s == nil {
		return nil
	}
	n := len(*a)
	*a = append(*a, s...)
	return (*a)[n:len(*a):len(*a)]
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
