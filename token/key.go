package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"unsafe"

	jose "github.com/go-jose/go-jose/v4"
)

// The signing algorithms of scopekit (RFC 7518 §3, RFC 8037 §3.1). HMAC and
// "none" are deliberately absent: an issuer's tokens are verified by parties
// that must not be able to mint them.
const (
	// RS256 is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), the default.
	RS256 = "RS256"
	// PS256 is RSASSA-PSS with SHA-256 (RFC 7518 §3.5).
	PS256 = "PS256"
	// ES256 is ECDSA with P-256 and SHA-256 (RFC 7518 §3.4).
	ES256 = "ES256"
	// EdDSA is Ed25519 (RFC 8037 §3.1).
	EdDSA = "EdDSA"
)

// Supported reports whether alg is one of the four supported algorithms.
func Supported(alg string) bool {
	switch alg {
	case RS256, PS256, ES256, EdDSA:
		return true
	}
	return false
}

// rsaBits is the size of generated RSA keys; loaded keys must be at least
// this large (RFC 7518 §3.3).
const rsaBits = 2048

// Key is a private signing key bound to one algorithm, with its key id.
type Key struct {
	id, alg string
	priv    crypto.Signer
	public  jose.JSONWebKey
	// headers are the base64url JWS headers of the common types, computed once.
	headers map[string]string
	// sigLen is the length of the key's signatures, in bytes.
	sigLen int
}

// GenerateKey creates a key for alg: RSA-2048 for RS256 and PS256, P-256
// for ES256, Ed25519 for EdDSA. Its kid is the RFC 7638 thumbprint.
func GenerateKey(alg string) (*Key, error) { return GenerateKeyWithID(alg, "") }

// GenerateKeyWithID creates a key for alg, as GenerateKey, with the given
// kid (RFC 7515 §4.1.4); an empty kid means the RFC 7638 thumbprint. Give a
// kid that names no other key of the issuer, ever.
func GenerateKeyWithID(alg, kid string) (*Key, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case RS256, PS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("token: unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, err
	}
	return newKey(kid, alg, priv)
}

// ParseJWK loads a private key from its JWK (RFC 7517). The JWK must carry
// a supported "alg" that fits its key type; public-only keys are refused.
func ParseJWK(data []byte) (*Key, error) {
	var jwk jose.JSONWebKey
	if err := json.Unmarshal(data, &jwk); err != nil {
		return nil, fmt.Errorf("token: malformed JWK: %w", err)
	}
	if jwk.IsPublic() {
		return nil, errors.New("token: JWK holds no private key")
	}
	priv, ok := jwk.Key.(crypto.Signer)
	if !ok {
		return nil, errors.New("token: JWK is not a signing key")
	}
	return newKey(jwk.KeyID, jwk.Algorithm, priv)
}

func newKey(kid, alg string, priv crypto.Signer) (*Key, error) {
	if err := checkKeyType(alg, priv.Public()); err != nil {
		return nil, err
	}
	if k, ok := priv.(*rsa.PrivateKey); ok {
		k.Precompute()
	}
	k := &Key{alg: alg, priv: priv, sigLen: 64}
	if rk, ok := priv.Public().(*rsa.PublicKey); ok {
		k.sigLen = rk.Size()
	}
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
	if kid == "" {
		tp, err := pub.Thumbprint(crypto.SHA256)
		if err != nil {
			return nil, err
		}
		kid = base64.RawURLEncoding.EncodeToString(tp)
	}
	k.id = kid
	pub.KeyID = kid
	k.public = pub
	k.headers = map[string]string{
		TypeAccessToken: k.header(TypeAccessToken),
		TypeIDToken:     k.header(TypeIDToken),
	}
	return k, nil
}

// checkKeyType verifies that the public key fits alg.
func checkKeyType(alg string, pub crypto.PublicKey) error {
	switch alg {
	case RS256, PS256:
		if k, ok := pub.(*rsa.PublicKey); ok && k.N.BitLen() >= rsaBits {
			return nil
		}
		return fmt.Errorf("token: %s needs an RSA key of at least %d bits", alg, rsaBits)
	case ES256:
		if k, ok := pub.(*ecdsa.PublicKey); ok && k.Curve == elliptic.P256() {
			return nil
		}
		return fmt.Errorf("token: %s needs a P-256 key", alg)
	case EdDSA:
		if _, ok := pub.(ed25519.PublicKey); ok {
			return nil
		}
		return fmt.Errorf("token: %s needs an Ed25519 key", alg)
	}
	return fmt.Errorf("token: unsupported algorithm %q", alg)
}

// ID returns the key id ("kid").
func (k *Key) ID() string { return k.id }

// Alg returns the key's algorithm.
func (k *Key) Alg() string { return k.alg }

// MarshalJWK returns the private key as a JWK, for storage.
func (k *Key) MarshalJWK() ([]byte, error) {
	return json.Marshal(jose.JSONWebKey{Key: k.priv, KeyID: k.id, Algorithm: k.alg, Use: "sig"})
}

// Public returns the public half as a JWK with kid, alg and use "sig".
func (k *Key) Public() jose.JSONWebKey { return k.public }

func (k *Key) header(typ string) string {
	h, _ := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ,omitempty"`
	}{k.alg, k.id, typ})
	return base64.RawURLEncoding.EncodeToString(h)
}

// Sign returns a compact JWS (RFC 7515 §7.1) over payload with the header
// {"alg","kid","typ"}. The header of the common types is precomputed and the
// token is built in one allocation, so the cost is the signature's.
func (k *Key) Sign(typ string, payload []byte) (string, error) {
	hdr, ok := k.headers[typ]
	if !ok {
		hdr = k.header(typ)
	}
	enc := base64.RawURLEncoding
	n := len(hdr) + 1 + enc.EncodedLen(len(payload))
	buf := make([]byte, n, n+1+enc.EncodedLen(k.sigLen))
	copy(buf, hdr)
	buf[len(hdr)] = '.'
	enc.Encode(buf[len(hdr)+1:], payload)
	buf, err := k.appendSignature(buf)
	if err != nil {
		return "", err
	}
	// buf is never written again: the string shares its bytes, as
	// strings.Builder does, rather than copying the token.
	return unsafe.String(unsafe.SliceData(buf), len(buf)), nil
}

// appendSignature appends '.' and the base64url signature of input to it.
// The signatures of fixed size stay on the stack.
func (k *Key) appendSignature(input []byte) ([]byte, error) {
	enc := base64.RawURLEncoding
	switch priv := k.priv.(type) {
	case ed25519.PrivateKey:
		sig := ed25519.Sign(priv, input)
		return enc.AppendEncode(append(input, '.'), sig), nil
	case *ecdsa.PrivateKey:
		d := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, priv, d[:])
		if err != nil {
			return nil, err
		}
		var sig [64]byte
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return enc.AppendEncode(append(input, '.'), sig[:]), nil
	case *rsa.PrivateKey:
		d := sha256.Sum256(input)
		var sig []byte
		var err error
		if k.alg == PS256 {
			sig, err = rsa.SignPSS(rand.Reader, priv, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(nil, priv, crypto.SHA256, d[:])
		}
		if err != nil {
			return nil, err
		}
		return enc.AppendEncode(append(input, '.'), sig), nil
	}
	return nil, fmt.Errorf("token: unsupported key type %T", k.priv)
}

// verifySignature checks sig over input with a public key for alg.
func verifySignature(alg string, pub crypto.PublicKey, input, sig []byte) error {
	switch alg {
	case EdDSA:
		p, ok := pub.(ed25519.PublicKey)
		if !ok || !ed25519.Verify(p, input, sig) {
			return ErrSignature
		}
		return nil
	case ES256:
		p, ok := pub.(*ecdsa.PublicKey)
		if !ok || len(sig) != 64 || p.Curve != elliptic.P256() {
			return ErrSignature
		}
		d := sha256.Sum256(input)
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(p, d[:], r, s) {
			return ErrSignature
		}
		return nil
	case RS256, PS256:
		p, ok := pub.(*rsa.PublicKey)
		if !ok || len(sig) != p.Size() {
			return ErrSignature
		}
		d := sha256.Sum256(input)
		var err error
		if alg == PS256 {
			err = rsa.VerifyPSS(p, crypto.SHA256, d[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			err = rsa.VerifyPKCS1v15(p, crypto.SHA256, d[:], sig)
		}
		if err != nil {
			return ErrSignature
		}
		return nil
	}
	return ErrAlgorithm
}
