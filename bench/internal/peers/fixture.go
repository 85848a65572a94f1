package peers

import (
	"crypto"
	"crypto/rsa"
	"fmt"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scopekit/scopekit/token"
)

// The fixture every issuer is configured with. The claim set each signs
// is scopekit's for a client-credentials token: iss, sub, aud, client_id,
// azp, scope, gty, jti, iat, exp, with the JWS header alg, kid and typ
// "at+jwt".
const (
	ClientID      = "svc"
	ClientSecret  = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"
	APIID         = "https://api.example.com"
	IssuerURL     = "https://auth.example.com/"
	TokenLifetime = time.Hour
	// GrantTypeName is the "gty" claim of a client-credentials token.
	GrantTypeName = "client-credentials"
	// SubjectSuffix follows the client ID in "sub".
	SubjectSuffix = "@clients"
)

// Algs are the algorithms compared; every implementation signs with the
// same key of each.
var Algs = []string{token.RS256, token.ES256, token.EdDSA}

// Scopes are the scopes the client is granted on the API.
var Scopes = []string{"read", "write"}

// Form is the client-credentials request every Go issuer answers (the
// client authenticates with HTTP Basic, RFC 6749 §2.3.1).
func Form() url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {"read write"}, "audience": {APIID}}
}

// Key is one signing key in the forms each implementation wants.
type Key struct {
	Alg  string
	Key  *token.Key
	Priv crypto.Signer
	Pub  crypto.PublicKey
}

// NewKey generates a key of alg.
func NewKey(alg string) (*Key, error) {
	k, err := token.GenerateKey(alg)
	if err != nil {
		return nil, err
	}
	jwk, err := k.MarshalJWK()
	if err != nil {
		return nil, err
	}
	var j jose.JSONWebKey
	if err := j.UnmarshalJSON(jwk); err != nil {
		return nil, err
	}
	priv, ok := j.Key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: the JWK holds no private key", alg)
	}
	if rk, ok := priv.(*rsa.PrivateKey); ok {
		// A key decoded from a JWK lacks the precomputed CRT values the
		// standard library's fast path needs; scopekit precomputes its own
		// copy, and so must every peer that signs with this one, or their
		// RS256 rows would measure a slower key.
		rk.Precompute()
	}
	return &Key{Alg: alg, Key: k, Priv: priv, Pub: priv.Public()}, nil
}
