package authz

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// A retry of a single-use exchange (a code, a refresh token) whose first
// answer was lost gets that answer again, within Config.RetryWindow
// (docs/ARCHITECTURE.md, "Retries and grace windows"). What the first
// request decided is recomputed, never stored in clear: the refresh token
// that follows a presented one (or the first one of a code's family) is
// HMAC(retry secret, what was presented), so the retry derives the same
// token and the store keeps only its hash; a code's grant is sealed under a
// key derived the same way from the code, so only a request presenting the
// code can read it from the used marker.

// retrySecretKid is the store record (among the signing keys, which the key
// set skips it from) holding the tenant's retry secret, created once by the
// first replica needing it and wrapped with Config.KeyWrapper when set.
const (
	retrySecretKid = "retry-secret"
	retrySecretAlg = "secret"
)

// retrySecret is the tenant's retry secret, loaded once.
type retrySecret struct {
	mu  sync.Mutex
	key []byte
}

// isRetrySecret reports whether a stored key record is the retry secret.
func isRetrySecret(r *storage.SigningKey) bool { return r.Alg == retrySecretAlg }

// defaultRetryWindow is Config.RetryWindow's default: long enough for a
// client's timeout and one retry, short against a token stolen in transit.
const defaultRetryWindow = 10 * time.Second

// retryOn reports whether retries are answered (Config.RetryWindow > 0).
func (s *Server) retryOn() bool { return s.cfg.RetryWindow > 0 }

// withinRetry reports whether an exchange first done at first may still be
// retried at now.
func (s *Server) withinRetry(first, now time.Time) bool {
	return s.retryOn() && !first.IsZero() && now.Before(first.Add(s.cfg.RetryWindow))
}

// retryKey returns the tenant's retry secret, reading it from the store or
// creating it there when absent (of concurrent creators one wins, the
// others read its record).
func (s *Server) retryKey(ctx context.Context) ([]byte, error) {
	rs := &s.retry
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.key != nil {
		return rs.key, nil
	}
	rec, err := s.store.Keys().Get(ctx, retrySecretKid)
	if errors.Is(err, storage.ErrNotFound) {
		rec, err = s.createRetrySecret(ctx)
	}
	if err != nil {
		return nil, err
	}
	key, err := s.openRetrySecret(ctx, rec)
	if err != nil {
		return nil, err
	}
	rs.key = key
	return key, nil
}

// retrySecretJWK is the stored form of the secret: a symmetric JWK
// (RFC 7517 §6.4), wrapped like the signing keys.
type retrySecretJWK struct {
	Kty string `json:"kty"`
	K   string `json:"k"`
}

func (s *Server) createRetrySecret(ctx context.Context) (*storage.SigningKey, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	jwk, err := json.Marshal(retrySecretJWK{Kty: "oct", K: base64.RawURLEncoding.EncodeToString(raw)})
	if err != nil {
		return nil, err
	}
	if v := s.keys.vault; v.wrapper != nil {
		if jwk, err = token.WrapJWK(ctx, v.wrapper, jwk, v.aad(retrySecretKid)); err != nil {
			return nil, err
		}
	}
	rec := &storage.SigningKey{ID: retrySecretKid, Alg: retrySecretAlg, JWK: jwk, CreatedAt: s.cfg.Now().UTC()}
	err = s.store.Keys().Create(ctx, rec)
	if errors.Is(err, storage.ErrDuplicate) {
		return s.store.Keys().Get(ctx, retrySecretKid)
	}
	return rec, err
}

func (s *Server) openRetrySecret(ctx context.Context, rec *storage.SigningKey) ([]byte, error) {
	v := s.keys.vault
	jwk, err := token.UnwrapJWK(ctx, v.wrapper, rec.JWK, v.aad(rec.ID))
	if err != nil {
		return nil, fmt.Errorf("authz: stored retry secret: %w", err)
	}
	var j retrySecretJWK
	if err := json.Unmarshal(jwk, &j); err != nil || j.Kty != "oct" {
		return nil, fmt.Errorf("authz: stored retry secret is no symmetric key")
	}
	key, err := base64.RawURLEncoding.DecodeString(j.K)
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("authz: stored retry secret is shorter than 32 bytes")
	}
	return key, nil
}

// derive is HMAC-SHA256 under the retry secret of a label and an input.
func (s *Server) derive(ctx context.Context, label, input string) ([]byte, error) {
	key, err := s.retryKey(ctx)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write([]byte(input))
	return m.Sum(nil), nil
}

// nextRefresh returns the refresh token of the family that follows the
// presented value (a refresh token, or the code that creates the family):
// derived from it when retries are on, so that a retry gets the same one;
// random otherwise.
func (s *Server) nextRefresh(ctx context.Context, family, label, presented string) (string, error) {
	if !s.retryOn() || presented == "" {
		return family + "." + token.Random(32), nil
	}
	mac, err := s.derive(ctx, label, family+"\x00"+presented)
	if err != nil {
		return "", err
	}
	return family + "." + base64.RawURLEncoding.EncodeToString(mac), nil
}

// Labels of the derivations, so that no two share an output.
const (
	labelAfterRefresh = "scopekit refresh after refresh"
	labelAfterCode    = "scopekit refresh after code"
	labelSealCode     = "scopekit sealed code"
)

// sealCode encrypts the grant of a code (AES-256-GCM under a key derived
// from the code's value, the code's hash as additional data) for its used
// marker; empty when retries are off.
func (s *Server) sealCode(ctx context.Context, raw string, c *storage.AuthCode) (string, error) {
	if !s.retryOn() {
		return "", nil
	}
	plain, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	aead, err := s.codeAEAD(ctx, raw)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(c.Hash))), nil
}

// openCode decrypts the grant sealCode sealed for the marker m, with the
// code presented; nil when it does not open (another code, or altered).
func (s *Server) openCode(ctx context.Context, raw string, m *storage.AuthCode) (*storage.AuthCode, error) {
	sealed, err := base64.RawURLEncoding.DecodeString(m.Sealed)
	if err != nil {
		return nil, nil
	}
	aead, err := s.codeAEAD(ctx, raw)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, nil
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(m.Hash))
	if err != nil {
		return nil, nil
	}
	var c storage.AuthCode
	if json.Unmarshal(plain, &c) != nil || c.Hash != m.Hash {
		return nil, nil
	}
	return &c, nil
}

func (s *Server) codeAEAD(ctx context.Context, raw string) (cipher.AEAD, error) {
	key, err := s.derive(ctx, labelSealCode, raw)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// codeRetry returns the grant of a used code when its presentation is a
// retry of the first exchange: within the retry window of the consumption,
// by the client it was issued to, with the PKCE verifier of its challenge
// (a code without PKCE is never retried). Anything else is nil: a replay.
func (s *Server) codeRetry(ctx context.Context, raw string, m *storage.AuthCode, client *storage.Client, verifier string, now time.Time) (*storage.AuthCode, error) {
	if m == nil || m.Sealed == "" || client == nil || m.ClientID != client.ID || !s.withinRetry(m.UsedAt, now) {
		return nil, nil
	}
	c, err := s.openCode(ctx, raw, m)
	if c == nil || err != nil {
		return nil, err
	}
	if c.ClientID != client.ID || c.CodeChallenge == "" || !oauth.VerifyPKCE(c.CodeChallenge, verifier) {
		return nil, nil
	}
	c.Used, c.UsedAt = true, m.UsedAt
	return c, nil
}

// rotationRetry reports whether a used refresh token rt, rotated to
// nextHash, may be answered with its successor next: within the retry
// window of the rotation, by the client it was issued to, the derived
// successor being the one stored and still live and unused (a successor
// used since means the first answer arrived: the token's reuse is theft).
//
// A sender-constrained family (DPoP, RFC 9449) must also be presented with
// the same key as the first request: this is where the proof's key
// thumbprint is compared with the one bound to the family.
func (s *Server) rotationRetry(ctx context.Context, client *storage.Client, rt *storage.RefreshToken, next, jkt string, now time.Time) (bool, error) {
	if rt.ClientID != client.ID || rt.JKT != jkt && rt.JKT != "" || rt.NextHash == "" || next == "" || token.Hash(next) != rt.NextHash || !s.withinRetry(rt.RotatedAt, now) {
		return false, nil
	}
	succ, err := s.store.GetRefresh(ctx, rt.Family, rt.NextHash)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrRevoked):
		return false, nil
	case err != nil:
		return false, err
	}
	return !succ.Used && succ.ClientID == client.ID, nil
}

// firstExchangeRetry reports whether a family the code's exchange found
// already stored (CreateFamily: ErrDuplicate) is the one an exchange of the
// same code created: the family of the client, not revoked, its first
// refresh token (first, nil without offline access) still live and unused.
func (s *Server) firstExchangeRetry(ctx context.Context, c *storage.Client, family string, first *storage.RefreshToken) (bool, error) {
	fam, err := s.store.GetFamily(ctx, family)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case fam.Revoked || fam.ClientID != c.ID:
		return false, nil
	case first == nil:
		return true, nil
	}
	rt, err := s.store.GetRefresh(ctx, family, first.Hash)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrRevoked):
		return false, nil
	case err != nil:
		return false, err
	}
	return !rt.Used && rt.ClientID == c.ID, nil
}
