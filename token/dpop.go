package token

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DPoP proof bounds (RFC 9449 §4).
const (
	// TypeDPoPProof is the typ of a DPoP proof (RFC 9449 §4.2).
	TypeDPoPProof = "dpop+jwt"
	// DefaultDPoPMaxSize bounds a proof before any decoding: a proof with
	// an RSA-4096 key is about 1.5 KiB.
	DefaultDPoPMaxSize = 4 << 10
	// DefaultDPoPWindow is how far iat may be from now, either way.
	DefaultDPoPWindow = 60 * time.Second
)

// DPoP proof failures; each matches ErrInvalid.
var (
	// ErrDPoPKey: the header's jwk is missing, not a public key of the
	// header's algorithm, or carries private members.
	ErrDPoPKey = invalid("token: DPoP proof key is not a public key of its algorithm")
	// ErrDPoPRequest: htm or htu is not the request's method or URL.
	ErrDPoPRequest = invalid("token: DPoP proof is for another request")
	// ErrDPoPTime: iat is missing or outside the accepted window.
	ErrDPoPTime = invalid("token: DPoP proof iat outside the accepted window")
	// ErrDPoPAccessToken: ath is missing or not the hash of the access token.
	ErrDPoPAccessToken = invalid("token: DPoP proof ath does not match the access token")
	// ErrDPoPNonce: nonce is missing or not the one the server requires.
	ErrDPoPNonce = invalid("token: DPoP proof nonce missing or stale")
)

// DPoPProof is a verified DPoP proof (RFC 9449 §4.2).
type DPoPProof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof's key,
	// base64url: what cnf.jkt binds a token to (RFC 9449 §6.1).
	JKT string
	// JTI is the proof's jti; the caller records it once (§11.1).
	JTI string
	// IssuedAt is the proof's iat.
	IssuedAt time.Time
	// Nonce is the proof's nonce, empty when absent.
	Nonce string
	// Algorithm is the header's alg.
	Algorithm string
}

// DPoPRequest is what a proof must be for.
type DPoPRequest struct {
	// Method is the HTTP method (htm), compared exactly.
	Method string
	// URL is the request URL without query and fragment (htu), compared
	// after normalisation (RFC 9449 §4.3 item 9: scheme and host without
	// case, default ports removed, RFC 3986 §6.2.2 path normalisation).
	URL string
	// AccessToken, when set, must be hashed in the proof's ath (§4.3 item
	// 11); a proof with ath at the token endpoint is accepted.
	AccessToken string
	// Nonce, when set, must be the proof's nonce; Nonces, when set
	// instead, decides whether the proof's nonce is current.
	Nonce  string
	Nonces *DPoPNonces
}

// DPoPVerifier checks DPoP proofs (RFC 9449 §4.3) at the token endpoint
// and at a resource server alike. It does not record the jti: the caller
// does, once, until IssuedAt plus Window.
type DPoPVerifier struct {
	// Algorithms is the allow-list of header alg values; none and HMAC are
	// never accepted. Nil means DPoPAlgorithms.
	Algorithms []string
	// Window bounds |now - iat|. Zero means DefaultDPoPWindow.
	Window time.Duration
	// MaxSize bounds the proof in bytes, checked first. Zero means
	// DefaultDPoPMaxSize.
	MaxSize int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// DPoPAlgorithms are the proof algorithms accepted by default, in the
// order discovery lists them (dpop_signing_alg_values_supported).
var DPoPAlgorithms = []string{ES256, EdDSA, PS256, RS256}

// WindowOf returns the window a verifier with the given setting applies.
func (v *DPoPVerifier) WindowOf() time.Duration {
	if v.Window <= 0 {
		return DefaultDPoPWindow
	}
	return v.Window
}

// dpopHeader is the header of a proof: alg, typ and the public key.
type dpopHeader struct {
	Alg string          `json:"alg"`
	Typ string          `json:"typ"`
	JWK json.RawMessage `json:"jwk"`
}

// dpopClaims are the claims a proof carries.
type dpopClaims struct {
	JTI   string       `json:"jti"`
	HTM   string       `json:"htm"`
	HTU   string       `json:"htu"`
	IAT   *json.Number `json:"iat"`
	ATH   string       `json:"ath"`
	Nonce string       `json:"nonce"`
}

// Verify checks a DPoP proof for req and returns it. Errors wrap
// ErrInvalid.
func (v *DPoPVerifier) Verify(raw string, req DPoPRequest) (*DPoPProof, error) {
	maxSize := v.MaxSize
	if maxSize <= 0 {
		maxSize = DefaultDPoPMaxSize
	}
	if len(raw) > maxSize {
		return nil, ErrTooLarge
	}
	h, p, sigPart, ok := split(raw)
	if !ok {
		return nil, ErrMalformed
	}
	var hdr dpopHeader
	if err := decodeStrict(h, &hdr); err != nil {
		return nil, ErrMalformed
	}
	if mediaType(hdr.Typ) != TypeDPoPProof {
		return nil, ErrType
	}
	if !v.algAllowed(hdr.Alg) {
		return nil, ErrAlgorithm
	}
	jwk, jkt, err := dpopKey(hdr)
	if err != nil {
		return nil, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(sigPart)
	if err != nil {
		return nil, ErrMalformed
	}
	if err := verifySignature(hdr.Alg, jwk.Key, []byte(raw[:len(h)+1+len(p)]), sig); err != nil {
		return nil, err
	}
	var c dpopClaims
	if err := decodeStrict(p, &c); err != nil {
		return nil, ErrMalformed
	}
	if c.JTI == "" || len(c.JTI) > MaxJTIBytes {
		return nil, ErrMissingClaim
	}
	if c.HTM != req.Method || !sameHTU(c.HTU, req.URL) {
		return nil, ErrDPoPRequest
	}
	iat, err := v.checkTime(c.IAT)
	if err != nil {
		return nil, err
	}
	if req.AccessToken != "" && subtle.ConstantTimeCompare([]byte(c.ATH), []byte(AccessTokenHash(req.AccessToken))) != 1 {
		return nil, ErrDPoPAccessToken
	}
	switch {
	case req.Nonce != "" && c.Nonce != req.Nonce,
		req.Nonces != nil && !req.Nonces.Valid(c.Nonce):
		return nil, ErrDPoPNonce
	}
	return &DPoPProof{JKT: jkt, JTI: c.JTI, IssuedAt: iat, Nonce: c.Nonce, Algorithm: hdr.Alg}, nil
}

// decodeStrict decodes a base64url JSON object part, valid UTF-8.
func decodeStrict(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil || !json.Valid(b) || bytes.IndexByte(b, '{') != 0 {
		return ErrMalformed
	}
	return decodeJSON(part, v)
}

// dpopKey reads the header's jwk: a public key (no private or symmetric
// members, RFC 9449 §4.3 item 6) whose type fits the algorithm, and its
// RFC 7638 thumbprint.
func dpopKey(hdr dpopHeader) (jose.JSONWebKey, string, error) {
	if len(hdr.JWK) == 0 {
		return jose.JSONWebKey{}, "", ErrDPoPKey
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(hdr.JWK, &members); err != nil {
		return jose.JSONWebKey{}, "", ErrDPoPKey
	}
	for _, private := range [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
		if _, ok := members[private]; ok {
			return jose.JSONWebKey{}, "", ErrDPoPKey
		}
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(hdr.JWK); err != nil || !jwk.IsPublic() || !jwk.Valid() {
		return jose.JSONWebKey{}, "", ErrDPoPKey
	}
	if jwk.Algorithm != "" && jwk.Algorithm != hdr.Alg {
		return jose.JSONWebKey{}, "", ErrDPoPKey
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, "", ErrDPoPKey
	}
	return jwk, base64.RawURLEncoding.EncodeToString(tp), nil
}

func (v *DPoPVerifier) algAllowed(alg string) bool {
	if !Supported(alg) {
		return false
	}
	algs := v.Algorithms
	if algs == nil {
		algs = DPoPAlgorithms
	}
	return contains(algs, alg)
}

// checkTime accepts an iat within the window of now, either way (RFC
// 9449 §11.1).
func (v *DPoPVerifier) checkTime(n *json.Number) (time.Time, error) {
	if n == nil {
		return time.Time{}, ErrDPoPTime
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1e11 {
		return time.Time{}, ErrDPoPTime
	}
	iat := time.Unix(int64(f), 0)
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	w := v.WindowOf()
	if iat.Before(now.Add(-w)) || iat.After(now.Add(w)) {
		return time.Time{}, ErrDPoPTime
	}
	return iat, nil
}

// AccessTokenHash is the ath of a proof for an access token:
// base64url(SHA-256(token)) (RFC 9449 §4.2).
func AccessTokenHash(accessToken string) string {
	d := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(d[:])
}

// sameHTU compares a proof's htu with the request URL: both absolute http
// or https URLs, equal after normalisation, the query and fragment of
// either ignored (RFC 9449 §4.3 item 9).
func sameHTU(htu, want string) bool {
	a, ok := NormalizeHTU(htu)
	if !ok {
		return false
	}
	b, ok := NormalizeHTU(want)
	return ok && a == b
}

// NormalizeHTU returns the scheme, host and path of an http(s) URL in the
// form htu values are compared in (RFC 3986 §6.2.2 and §6.2.3: lower-case
// scheme and host, no default port, an empty path as "/", percent-encoding
// normalised), without query and fragment.
func NormalizeHTU(raw string) (string, bool) {
	if len(raw) > 2048 {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, true
}
