package admin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage/memory"
)

// ecKey is a P-256 key and its JWK (public, or with the private d).
func ecKey(t *testing.T, kid string) (*ecdsa.PrivateKey, map[string]any, map[string]any) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	jwk := func(key any) map[string]any {
		raw, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: "ES256", Use: "sig"})
		must(t, err)
		m := map[string]any{}
		must(t, json.Unmarshal(raw, &m))
		return m
	}
	return k, jwk(&k.PublicKey), jwk(k)
}

// assertionToken asks the token endpoint for a client credentials token
// with a private_key_jwt assertion go-jose signed (RFC 7523 §2.2).
func (e *env) assertionToken(t *testing.T, client, kid string, key *ecdsa.PrivateKey) int {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	must(t, err)
	now := time.Now()
	claims, err := json.Marshal(map[string]any{"iss": client, "sub": client, "aud": e.srv.Issuer(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": rand.Text()})
	must(t, err)
	jws, err := s.Sign(claims)
	must(t, err)
	assertion, err := jws.CompactSerialize()
	must(t, err)
	resp, err := http.PostForm(e.ts.URL+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "audience": {otherAPI},
		"client_assertion_type": {oauth.AssertionTypeJWTBearer}, "client_assertion": {assertion}})
	must(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestClientCredentials registers a private_key_jwt client through REST,
// gets tokens with assertions signed by its keys, and adds, replaces and
// removes keys through /clients/{id}/credentials: a key removed or
// replaced no longer authenticates; private members, a wrong credential
// type, a kid mismatch, a duplicate and the last key's removal are refused
// with nothing written.
func TestClientCredentials(t *testing.T) {
	e := newEnv(t, memory.New())
	tok := e.all()
	k1, pub1, _ := ecKey(t, "k1")
	e.do("POST", "/api/v2/clients", tok, map[string]any{"client_id": "svc", "client_name": "Service",
		"token_endpoint_auth_method": "private_key_jwt", "grant_types": []string{"client_credentials"},
		"jwks": map[string]any{"keys": []any{pub1}}}).want(t, http.StatusCreated)
	e.do("POST", "/api/v2/client-grants", tok, map[string]any{"client_id": "svc", "audience": otherAPI,
		"scope": []string{admin.ScopeUsersList}}).want(t, http.StatusCreated)
	if st := e.assertionToken(t, "svc", "k1", k1); st != http.StatusOK {
		t.Fatalf("assertion with k1: %d", st)
	}

	k2, pub2, priv2 := ecKey(t, "k2")
	create := e.token(admin.ScopeClientsJWKCreate)
	update := e.token(admin.ScopeClientsJWKUpdate)
	path := "/api/v2/clients/svc/credentials"
	for name, c := range map[string]struct {
		body  any
		field string
	}{
		"private key":    {map[string]any{"credential_type": "public_key", "jwk": priv2}, "jwk"},
		"wrong type":     {map[string]any{"credential_type": "pem", "jwk": pub2}, "credential_type"},
		"no key":         {map[string]any{"credential_type": "public_key"}, "jwk"},
		"unknown field":  {map[string]any{"jwk": pub2, "pem": "x"}, "pem"},
		"key not object": {map[string]any{"jwk": "k2"}, "jwk"},
		"duplicate kid":  {map[string]any{"jwk": pub1}, ""},
		"symmetric key":  {map[string]any{"jwk": map[string]any{"kty": "oct", "k": "c2VjcmV0", "kid": "s", "alg": "HS256"}}, "jwk"},
	} {
		a := e.do("POST", path, create, c.body).want(t, http.StatusBadRequest)
		code, fields := a.apiErr(t)
		if code != "invalid_body" || (c.field != "" && (len(fields) != 1 || fields[0] != c.field)) {
			t.Fatalf("%s: %s %v, want a field error of %q", name, code, fields, c.field)
		}
	}
	a := e.do("POST", path, create, map[string]any{"credential_type": "public_key", "jwk": pub2}).want(t, http.StatusCreated)
	if m := a.json(t); m["id"] != "k2" || m["kid"] != "k2" || m["alg"] != "ES256" || a.Header.Get("ETag") == "" {
		t.Fatalf("created %v", m)
	}
	if st := e.assertionToken(t, "svc", "k2", k2); st != http.StatusOK {
		t.Fatalf("assertion with the added k2: %d", st)
	}
	list := e.do("GET", path, e.token(admin.ScopeClientsList), nil).want(t, http.StatusOK).json(t)
	if creds := asList(list["credentials"]); len(creds) != 2 {
		t.Fatalf("credentials %v", list)
	}

	// a new key under kid k2: the old k2 no longer authenticates.
	k2b, pub2b, _ := ecKey(t, "k2")
	_, pub3, _ := ecKey(t, "k3")
	a = e.do("PATCH", path+"/k2", update, map[string]any{"jwk": pub3}).want(t, http.StatusBadRequest)
	if _, fields := a.apiErr(t); len(fields) != 1 || fields[0] != "jwk.kid" {
		t.Fatalf("kid mismatch: fields %v", fields)
	}
	e.do("PATCH", path+"/k9", update, map[string]any{"jwk": map[string]any{"kty": pub3["kty"], "crv": pub3["crv"], "x": pub3["x"], "y": pub3["y"], "kid": "k9", "alg": "ES256"}}).
		want(t, http.StatusNotFound)
	e.do("PATCH", path+"/k2", update, map[string]any{"jwk": pub2b}).want(t, http.StatusOK)
	if st := e.assertionToken(t, "svc", "k2", k2); st != http.StatusUnauthorized {
		t.Fatalf("assertion with the replaced k2: %d", st)
	}
	if st := e.assertionToken(t, "svc", "k2", k2b); st != http.StatusOK {
		t.Fatalf("assertion with the new k2: %d", st)
	}

	e.do("DELETE", path+"/k1", update, nil).want(t, http.StatusNoContent)
	e.do("DELETE", path+"/k1", update, nil).want(t, http.StatusNotFound)
	if st := e.assertionToken(t, "svc", "k1", k1); st != http.StatusUnauthorized {
		t.Fatalf("assertion with the removed k1: %d", st)
	}
	e.do("DELETE", path+"/k2", update, nil).want(t, http.StatusBadRequest)
	if st := e.assertionToken(t, "svc", "k2", k2b); st != http.StatusOK {
		t.Fatalf("the last key was removed: %d", st)
	}

	// a client with a secret has no JWK Set to add to.
	e.do("POST", "/api/v2/clients/"+e.boot.ClientID+"/credentials", create, map[string]any{"jwk": pub3}).want(t, http.StatusBadRequest)
	e.do("POST", "/api/v2/clients/nobody/credentials", create, map[string]any{"jwk": pub3}).want(t, http.StatusNotFound)
}
