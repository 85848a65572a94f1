package authz_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/token"
)

// dpopKey is a client's DPoP key pair.
type dpopKey struct{ ec *ecdsa.PrivateKey }

func newDPoPKey(t testing.TB) *dpopKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	return &dpopKey{ec: k}
}

// jkt is the key's RFC 7638 thumbprint.
func (k *dpopKey) jkt(t testing.TB) string {
	tp, err := (&jose.JSONWebKey{Key: &k.ec.PublicKey}).Thumbprint(crypto.SHA256)
	must(t, err)
	return base64.RawURLEncoding.EncodeToString(tp)
}

// proof signs a DPoP proof with go-jose for htm and htu at iat; at, when
// set, is hashed in ath, nonce, when set, sent.
func (k *dpopKey) proof(t testing.TB, htm, htu, at, nonce string, iat time.Time) string {
	t.Helper()
	claims := map[string]any{"jti": rand.Text(), "htm": htm, "htu": htu, "iat": iat.Unix()}
	if at != "" {
		claims["ath"] = token.AccessTokenHash(at)
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.ec},
		&jose.SignerOptions{EmbedJWK: true, ExtraHeaders: map[jose.HeaderKey]any{"typ": "dpop+jwt"}})
	must(t, err)
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	must(t, err)
	raw, err := jws.CompactSerialize()
	must(t, err)
	return raw
}

// dpopHeader is the header of a token request: its proof, and Basic
// credentials when secret is set.
func dpopHeader(id, secret, proof string) http.Header {
	h := http.Header{}
	if secret != "" {
		h = basic(id, secret)
	}
	if proof != "" {
		h.Set("DPoP", proof)
	}
	return h
}

// usersResource is an API protected by the server's authorizer for the
// users API (read:users), on its own listener.
func usersResource(t testing.TB, srv *authz.Server) *httptest.Server {
	t.Helper()
	a := srv.Authorizer(usersAPI)
	ts := httptest.NewServer(a.RequireScopes("read:users")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	t.Cleanup(ts.Close)
	return ts
}

// callResource calls GET url with the scheme, token and proof.
func callResource(t testing.TB, u, scheme, at, proof string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	must(t, err)
	req.Header.Set("Authorization", scheme+" "+at)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	return resp
}

// httptestServer serves h on a loopback listener for the test.
func httptestServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// swapSignature returns the header and payload of a with the signature of b.
func swapSignature(a, b string) string {
	return a[:strings.LastIndexByte(a, '.')] + b[strings.LastIndexByte(b, '.'):]
}
