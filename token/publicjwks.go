package token

import (
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// Bounds of a client's public JWK Set.
const (
	// MaxPublicJWKSBytes bounds a JWK Set a client registers or publishes.
	MaxPublicJWKSBytes = 64 << 10
	// MaxPublicJWKs bounds the keys of such a set.
	MaxPublicJWKs = 16
)

// privateMembers are the JWK members of private or symmetric key material
// (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
var privateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ParsePublicJWKS parses a JWK Set (RFC 7517 §5) of public signing keys,
// refusing the whole set on any defect: no key, more than MaxPublicJWKSBytes or
// MaxPublicJWKs, a member of private or symmetric key material, a key
// without kid or with a kid used twice, without a supported "alg" (RS256,
// PS256, ES256, EdDSA) or with one its key type does not fit (RSA of at
// least 2048 bits, P-256, Ed25519), or one marked "use":"enc".
func ParsePublicJWKS(data []byte) ([]jose.JSONWebKey, error) {
	if len(data) > MaxPublicJWKSBytes {
		return nil, fmt.Errorf("token: JWK Set larger than %d bytes", MaxPublicJWKSBytes)
	}
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("token: malformed JWK Set: %w", err)
	}
	if len(raw.Keys) == 0 {
		return nil, fmt.Errorf("token: a JWK Set needs at least one key")
	}
	if len(raw.Keys) > MaxPublicJWKs {
		return nil, fmt.Errorf("token: a JWK Set holds at most %d keys", MaxPublicJWKs)
	}
	keys := make([]jose.JSONWebKey, 0, len(raw.Keys))
	seen := map[string]bool{}
	for i, r := range raw.Keys {
		k, err := ParsePublicJWK(r)
		if err != nil {
			return nil, fmt.Errorf("token: key %d: %w", i, err)
		}
		if seen[k.KeyID] {
			return nil, fmt.Errorf("token: key %d: kid %q is used twice", i, k.KeyID)
		}
		seen[k.KeyID] = true
		keys = append(keys, k)
	}
	return keys, nil
}

// ParsePublicJWK parses one public signing key by the rules of
// ParsePublicJWKS.
func ParsePublicJWK(data []byte) (jose.JSONWebKey, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil || members == nil {
		return jose.JSONWebKey{}, fmt.Errorf("malformed JWK")
	}
	for _, m := range privateMembers {
		if _, ok := members[m]; ok {
			return jose.JSONWebKey{}, fmt.Errorf("a public key must not carry %q", m)
		}
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(data); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("malformed JWK: %w", err)
	}
	switch {
	case !k.IsPublic():
		return jose.JSONWebKey{}, fmt.Errorf("not a public key")
	case k.KeyID == "":
		return jose.JSONWebKey{}, fmt.Errorf("kid is required")
	case k.Use == "enc":
		return jose.JSONWebKey{}, fmt.Errorf("an encryption key cannot sign")
	case !Supported(k.Algorithm):
		return jose.JSONWebKey{}, fmt.Errorf("alg must be one of RS256, PS256, ES256, EdDSA")
	}
	if err := checkKeyType(k.Algorithm, k.Key); err != nil {
		return jose.JSONWebKey{}, err
	}
	return k, nil
}
