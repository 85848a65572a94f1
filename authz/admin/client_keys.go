package admin

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// AddClientJWK adds a public signing key (RFC 7517 §4: kid and alg
// required, no private members) to the inline JWK Set of a private_key_jwt
// client. The whole client is validated again (authz.CheckClient) and
// written as a compare-and-swap on its revision, so a concurrent change is
// kept; a kid already in the set, or a client using jwks_uri, is refused.
func (m *Admin) AddClientJWK(ctx context.Context, clientID string, jwk json.RawMessage) error {
	return m.reviseClientKeys(ctx, clientID, func(keys []json.RawMessage) ([]json.RawMessage, error) {
		return append(keys, slices.Clone(jwk)), nil
	})
}

// RemoveClientJWK removes the key kid from the client's inline JWK Set;
// storage.ErrNotFound if it holds no such key. A set left empty is
// refused, as the client could no longer authenticate.
func (m *Admin) RemoveClientJWK(ctx context.Context, clientID, kid string) error {
	return m.reviseClientKeys(ctx, clientID, func(keys []json.RawMessage) ([]json.RawMessage, error) {
		out := keys[:0:0]
		for _, k := range keys {
			var h struct {
				Kid string `json:"kid"`
			}
			if json.Unmarshal(k, &h) == nil && h.Kid == kid {
				continue
			}
			out = append(out, k)
		}
		if len(out) == len(keys) {
			return nil, storage.ErrNotFound
		}
		return out, nil
	})
}

// UpdateClientJWKS replaces the client's inline JWK Set with jwks (a JWK
// Set document; token.ParsePublicJWKS says what it may hold), validated
// and written like AddClientJWK.
func (m *Admin) UpdateClientJWKS(ctx context.Context, clientID string, jwks json.RawMessage) error {
	return m.reviseClient(ctx, clientID, func(cl *storage.Client) error {
		cl.JWKS = slices.Clone(jwks)
		return nil
	})
}

// reviseClientKeys changes the keys of the client's inline set.
func (m *Admin) reviseClientKeys(ctx context.Context, clientID string, change func([]json.RawMessage) ([]json.RawMessage, error)) error {
	return m.reviseClient(ctx, clientID, func(cl *storage.Client) error {
		var set struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if len(cl.JWKS) > 0 {
			// Stored sets were validated; a defect here fails validation below.
			_ = json.Unmarshal(cl.JWKS, &set)
		}
		keys, err := change(set.Keys)
		if err != nil {
			return err
		}
		if keys == nil {
			keys = []json.RawMessage{}
		}
		cl.JWKS, err = json.Marshal(struct {
			Keys []json.RawMessage `json:"keys"`
		}{keys})
		return err
	})
}

// reviseClient applies change to the stored client, validates the result
// as every client write is validated, and writes it naming the revision it
// read (retrying on storage.ErrConflict).
func (m *Admin) reviseClient(ctx context.Context, clientID string, change func(*storage.Client) error) error {
	err := storage.Revise(ctx, m.store.Clients(), clientID, nil, func(cl *storage.Client) error {
		if err := change(cl); err != nil {
			return err
		}
		if len(cl.JWKS) > 0 && len(cl.JWKS) <= token.MaxPublicJWKSBytes && !json.Valid(cl.JWKS) {
			c := checker{kind: "client"}
			c.bad("jwks", "must be a JSON JWK Set")
			return c.err()
		}
		return m.validateClient(ctx, cl)
	})
	return wrap("client", clientID, err)
}

// ReplaceClientJWK replaces the key kid of the client's inline JWK Set
// with jwk, which must carry the same kid; storage.ErrNotFound if the set
// holds no such key. Validated and written like AddClientJWK.
func (m *Admin) ReplaceClientJWK(ctx context.Context, clientID, kid string, jwk json.RawMessage) error {
	return m.reviseClientKeys(ctx, clientID, func(keys []json.RawMessage) ([]json.RawMessage, error) {
		var h struct {
			Kid string `json:"kid"`
		}
		if json.Unmarshal(jwk, &h) != nil || h.Kid != kid {
			c := checker{kind: "client"}
			c.bad("jwk.kid", "must be the kid of the key replaced")
			return nil, c.err()
		}
		out := slices.Clone(keys)
		for i, k := range out {
			var stored struct {
				Kid string `json:"kid"`
			}
			if json.Unmarshal(k, &stored) == nil && stored.Kid == kid {
				out[i] = slices.Clone(jwk)
				return out, nil
			}
		}
		return nil, storage.ErrNotFound
	})
}
