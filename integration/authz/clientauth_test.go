package authz_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// pkClient is a private_key_jwt client and its keys.
type pkClient struct {
	id    string
	ec    *ecdsa.PrivateKey // kid "ec1", ES256
	rsa   *rsa.PrivateKey   // kid "rsa1", RS256
	ed    ed25519.PrivateKey
	clock *clock
	f     *fixture
}

func newPKFixture(t *testing.T, mutate ...func(*authz.Config)) *pkClient {
	t.Helper()
	clk := &clock{t: time.Now().Truncate(time.Second)}
	f := newFixture(t, append([]func(*authz.Config){func(c *authz.Config) { c.Now = clk.Now }}, mutate...)...)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	c := &pkClient{id: "signer", ec: ec, rsa: rk, ed: ed, clock: clk, f: f}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &ec.PublicKey, KeyID: "ec1", Algorithm: "ES256", Use: "sig"},
		{Key: &rk.PublicKey, KeyID: "rsa1", Algorithm: "RS256"},
		{Key: ed.Public(), KeyID: "ed1", Algorithm: "EdDSA"},
	}})
	must(t, err)
	ctx := context.Background()
	secret, err := f.srv.CreateClient(ctx, &storage.Client{ID: c.id, Name: "Signer", GrantTypes: []string{"client_credentials"},
		AuthMethod: oauth.AuthPrivateKeyJWT, JWKS: jwks})
	must(t, err)
	if secret != "" {
		t.Fatalf("a private_key_jwt client got a secret")
	}
	must(t, f.store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: c.id, Audience: usersAPI, Scopes: []string{"read:users"}}))
	return c
}

// claims are an assertion's claims valid now.
func (c *pkClient) claims() map[string]any {
	now := c.clock.Now()
	return map[string]any{"iss": c.id, "sub": c.id, "aud": c.f.srv.Issuer(), "iat": now.Unix(),
		"exp": now.Add(time.Minute).Unix(), "jti": rand.Text()}
}

// sign makes an assertion with go-jose.
func sign(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	must(t, err)
	payload, err := json.Marshal(claims)
	must(t, err)
	jws, err := s.Sign(payload)
	must(t, err)
	raw, err := jws.CompactSerialize()
	must(t, err)
	return raw
}

// hand builds a compact JWS with any header and signature bytes.
func hand(header, claims map[string]any, sig func(input string) []byte) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig(input))
}

func (c *pkClient) es(t testing.TB, claims map[string]any) string {
	return sign(t, jose.ES256, c.ec, "ec1", claims)
}

// endpoint is one endpoint that authenticates clients.
type endpoint struct {
	name string
	url  func(*authz.Metadata) string
	form url.Values
}

var clientAuthEndpoints = []endpoint{
	{"token", func(m *authz.Metadata) string { return m.TokenEndpoint }, url.Values{"grant_type": {"client_credentials"}, "audience": {usersAPI}}},
	{"introspection", func(m *authz.Metadata) string { return m.IntrospectionEndpoint }, url.Values{"token": {"never-issued"}}},
	{"revocation", func(m *authz.Metadata) string { return m.RevocationEndpoint }, url.Values{"token": {"never-issued"}}},
}

func withAssertion(form url.Values, assertion string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	out.Set("client_assertion_type", oauth.AssertionTypeJWTBearer)
	out.Set("client_assertion", assertion)
	return out
}

// TestPrivateKeyJWT authenticates with assertions go-jose signed, at the
// token, introspection and revocation endpoints, and checks every refusal.
func TestPrivateKeyJWT(t *testing.T) {
	c := newPKFixture(t)
	md := c.f.srv.Metadata()
	for _, ep := range clientAuthEndpoints {
		t.Run(ep.name, func(t *testing.T) {
			post := func(form url.Values, h http.Header) (*http.Response, map[string]any) {
				return postForm(t, ep.url(md), form, h)
			}
			accepted := map[string]func() string{
				"ES256":  func() string { return c.es(t, c.claims()) },
				"RS256":  func() string { return sign(t, jose.RS256, c.rsa, "rsa1", c.claims()) },
				"EdDSA":  func() string { return sign(t, jose.EdDSA, c.ed, "ed1", c.claims()) },
				"no kid": func() string { return sign(t, jose.ES256, c.ec, "", c.claims()) },
				"token endpoint aud": func() string {
					cl := c.claims()
					cl["aud"] = md.TokenEndpoint
					return c.es(t, cl)
				},
				"aud array of ours": func() string {
					cl := c.claims()
					cl["aud"] = []string{md.Issuer}
					return c.es(t, cl)
				},
			}
			for name, mk := range accepted {
				form := withAssertion(ep.form, mk())
				if name == "ES256" {
					form.Set("client_id", c.id)
				}
				resp, body := post(form, nil)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: %d %v", name, resp.StatusCode, body)
				}
			}
			with := func(change func(map[string]any)) string {
				cl := c.claims()
				change(cl)
				return c.es(t, cl)
			}
			replayed := c.es(t, c.claims())
			if resp, body := post(withAssertion(ep.form, replayed), nil); resp.StatusCode != 200 {
				t.Fatalf("first use: %d %v", resp.StatusCode, body)
			}
			hsKey, _ := x509.MarshalPKIXPublicKey(&c.ec.PublicKey)
			refused := map[string]string{
				"replayed jti":           replayed,
				"wrong iss":              with(func(m map[string]any) { m["iss"] = "reporter" }),
				"wrong sub":              with(func(m map[string]any) { m["sub"] = "reporter" }),
				"foreign aud":            with(func(m map[string]any) { m["aud"] = "https://elsewhere.example.com/" }),
				"aud array with foreign": with(func(m map[string]any) { m["aud"] = []string{md.Issuer, "https://elsewhere.example.com/"} }),
				"introspection aud":      with(func(m map[string]any) { m["aud"] = md.IntrospectionEndpoint }),
				"no aud":                 with(func(m map[string]any) { delete(m, "aud") }),
				"expired":                with(func(m map[string]any) { m["exp"] = c.clock.Now().Add(-2 * time.Minute).Unix() }),
				"no exp":                 with(func(m map[string]any) { delete(m, "exp") }),
				"exp too far":            with(func(m map[string]any) { m["exp"] = c.clock.Now().Add(10 * time.Minute).Unix() }),
				"iat in the future":      with(func(m map[string]any) { m["iat"] = c.clock.Now().Add(2 * time.Minute).Unix() }),
				"no jti":                 with(func(m map[string]any) { delete(m, "jti") }),
				"alg none":               hand(map[string]any{"alg": "none", "kid": "ec1"}, c.claims(), func(string) []byte { return nil }),
				"HS256 with the public key": hand(map[string]any{"alg": "HS256", "kid": "ec1"}, c.claims(), func(in string) []byte {
					m := hmac.New(sha256.New, hsKey)
					m.Write([]byte(in))
					return m.Sum(nil)
				}),
				"alg of another key": sign(t, jose.ES256, c.ec, "rsa1", c.claims()),
				"RS256 key as PS256": sign(t, jose.PS256, c.rsa, "rsa1", c.claims()),
				"unknown kid":        sign(t, jose.ES256, c.ec, "nope", c.claims()),
				"other key":          sign(t, jose.ES256, mustEC(t), "ec1", c.claims()),
				"oversized":          with(func(m map[string]any) { m["pad"] = strings.Repeat("x", 9<<10) }),
				"jwk in header":      signWithJWK(t, c.ec, c.claims()),
				"not a JWS":          "not-a-jwt",
			}
			for name, a := range refused {
				resp, body := post(withAssertion(ep.form, a), nil)
				if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
					t.Fatalf("%s: %d %v, want 401 invalid_client", name, resp.StatusCode, body)
				}
			}
			// client_id must be the assertion's sub.
			form := withAssertion(ep.form, c.es(t, c.claims()))
			form.Set("client_id", "reporter")
			if resp, body := post(form, nil); resp.StatusCode != 401 || body["error"] != "invalid_client" {
				t.Fatalf("client_id other than sub: %d %v", resp.StatusCode, body)
			}
			// An assertion goes with its type.
			form = withAssertion(ep.form, c.es(t, c.claims()))
			form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
			if resp, body := post(form, nil); resp.StatusCode != 401 {
				t.Fatalf("other assertion type: %d %v", resp.StatusCode, body)
			}
			form = withAssertion(ep.form, c.es(t, c.claims()))
			form.Del("client_assertion_type")
			if resp, body := post(form, nil); resp.StatusCode != 400 || body["error"] != "invalid_request" {
				t.Fatalf("assertion without type: %d %v", resp.StatusCode, body)
			}
			// Two methods at once.
			if resp, body := post(withAssertion(ep.form, c.es(t, c.claims())), basic("reporter", c.f.secret)); resp.StatusCode != 400 {
				t.Fatalf("assertion and Basic: %d %v", resp.StatusCode, body)
			}
			// A key client never authenticates with a secret.
			if resp, body := post(ep.form, basic(c.id, "anything")); resp.StatusCode != 401 || body["error"] != "invalid_client" {
				t.Fatalf("secret of a pkjwt client (basic): %d %v", resp.StatusCode, body)
			}
			form = url.Values{"client_id": {c.id}, "client_secret": {""}}
			for k, v := range ep.form {
				form[k] = v
			}
			form.Set("client_secret", "anything")
			if resp, body := post(form, nil); resp.StatusCode != 401 {
				t.Fatalf("secret of a pkjwt client (post): %d %v", resp.StatusCode, body)
			}
			// Nor a secret client with an assertion, even one it signed.
			cl := c.claims()
			cl["iss"], cl["sub"] = "reporter", "reporter"
			if resp, body := post(withAssertion(ep.form, c.es(t, cl)), nil); resp.StatusCode != 401 || body["error"] != "invalid_client" {
				t.Fatalf("assertion of a secret client: %d %v", resp.StatusCode, body)
			}
		})
	}
}

// TestPrivateKeyJWTConcurrentReplay sends one assertion from many
// goroutines at once: exactly one is accepted.
func TestPrivateKeyJWTConcurrentReplay(t *testing.T) {
	c := newPKFixture(t)
	md := c.f.srv.Metadata()
	for _, ep := range clientAuthEndpoints {
		a := c.es(t, c.claims())
		var ok, refused atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, body := postForm(t, ep.url(md), withAssertion(ep.form, a), nil)
				switch {
				case resp.StatusCode == 200:
					ok.Add(1)
				case resp.StatusCode == 401 && body["error"] == "invalid_client":
					refused.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		if ok.Load() != 1 || refused.Load() != 19 {
			t.Fatalf("%s: %d accepted, %d refused of 20", ep.name, ok.Load(), refused.Load())
		}
	}
}

func mustEC(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	return k
}

// signWithJWK signs with a key carried in the header (RFC 8725 §3.10:
// the key is the client's registered one, never the token's own).
func signWithJWK(t testing.TB, k *ecdsa.PrivateKey, claims map[string]any) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{EmbedJWK: true}).WithHeader("kid", "ec1"))
	must(t, err)
	p, _ := json.Marshal(claims)
	jws, err := s.Sign(p)
	must(t, err)
	raw, err := jws.CompactSerialize()
	must(t, err)
	return raw
}

// TestPrivateKeyJWTRegistration: keys are public signing keys only; a
// jwks_uri is https; a key client gets no secret and cannot rotate one.
func TestPrivateKeyJWTRegistration(t *testing.T) {
	c := newPKFixture(t)
	ctx := context.Background()
	priv, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: c.ec, KeyID: "p", Algorithm: "ES256"}}})
	sym, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "oct", "k": "c2VjcmV0", "kid": "s", "alg": "HS256"}}})
	noAlg, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &c.ec.PublicKey, KeyID: "p"}}})
	good, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &c.ec.PublicKey, KeyID: "p", Algorithm: "ES256"}}})
	for name, cl := range map[string]*storage.Client{
		"private key":            {JWKS: priv},
		"symmetric key":          {JWKS: sym},
		"key without alg":        {JWKS: noAlg},
		"no keys":                {},
		"jwks and jwks_uri":      {JWKS: good, JWKSURI: "https://keys.example.com/jwks"},
		"http jwks_uri":          {JWKSURI: "http://keys.example.com/jwks"},
		"jwks_uri with fragment": {JWKSURI: "https://keys.example.com/jwks#x"},
		"public client":          {JWKS: good, Public: true},
	} {
		cl.ID, cl.AuthMethod = "bad-"+strings.ReplaceAll(name, " ", "-"), oauth.AuthPrivateKeyJWT
		if _, err := c.f.srv.CreateClient(ctx, cl); err == nil {
			t.Fatalf("%s: registered", name)
		}
	}
	if _, err := c.f.srv.CreateClient(ctx, &storage.Client{ID: "keys-but-secret", JWKS: good}); err == nil {
		t.Fatal("a secret client registered with keys")
	}
	if _, err := c.f.srv.RotateClientSecret(ctx, c.id); err == nil {
		t.Fatal("a private_key_jwt client got a secret")
	}
	// The default is explicit at registration.
	_, err := c.f.srv.CreateClient(ctx, &storage.Client{ID: "plain"})
	must(t, err)
	got, err := c.f.store.Clients().Get(ctx, "plain")
	must(t, err)
	if got.AuthMethod != oauth.AuthBasic {
		t.Fatalf("default method %q, want client_secret_basic", got.AuthMethod)
	}
}

// TestLegacyClientWithoutMethod: a record stored without a method (before
// methods were explicit) still accepts either secret method, and no
// assertion.
func TestLegacyClientWithoutMethod(t *testing.T) {
	c := newPKFixture(t)
	ctx := context.Background()
	secret := "a-legacy-secret-of-enough-random-characters"
	h := sha256.Sum256([]byte(secret))
	must(t, c.f.store.Clients().Create(ctx, &storage.Client{ID: "legacy", SecretHash: h[:], GrantTypes: []string{"client_credentials"}}))
	must(t, c.f.store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "legacy", Audience: usersAPI, Scopes: []string{"read:users"}}))
	ep := c.f.srv.Metadata().TokenEndpoint
	form := url.Values{"grant_type": {"client_credentials"}, "audience": {usersAPI}}
	if resp, body := postForm(t, ep, form, basic("legacy", secret)); resp.StatusCode != 200 {
		t.Fatalf("basic: %d %v", resp.StatusCode, body)
	}
	post := url.Values{"client_id": {"legacy"}, "client_secret": {secret}}
	for k, v := range form {
		post[k] = v
	}
	if resp, body := postForm(t, ep, post, nil); resp.StatusCode != 200 {
		t.Fatalf("post: %d %v", resp.StatusCode, body)
	}
	cl := c.claims()
	cl["iss"], cl["sub"] = "legacy", "legacy"
	if resp, body := postForm(t, ep, withAssertion(form, c.es(t, cl)), nil); resp.StatusCode != 401 {
		t.Fatalf("assertion: %d %v", resp.StatusCode, body)
	}
	// And a registered basic client cannot post its secret.
	post.Set("client_id", "reporter")
	post.Set("client_secret", c.f.secret)
	if resp, body := postForm(t, ep, post, nil); resp.StatusCode != 401 {
		t.Fatalf("basic client posting its secret: %d %v", resp.StatusCode, body)
	}
}

// TestClientAuthDiscovery: the metadata lists the enabled methods and the
// assertion algorithms; a disabled method is neither listed nor usable.
func TestClientAuthDiscovery(t *testing.T) {
	c := newPKFixture(t)
	md := c.f.srv.Metadata()
	for name, got := range map[string][]string{"token": md.TokenEndpointAuthMethodsSupported,
		"introspection": md.IntrospectionEndpointAuthMethodsSupported, "revocation": md.RevocationEndpointAuthMethodsSupported} {
		if !slices.Equal(got, []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}) {
			t.Fatalf("%s methods %v", name, got)
		}
	}
	for _, got := range [][]string{md.TokenEndpointAuthSigningAlgValuesSupported, md.IntrospectionEndpointAuthSigningAlgValuesSupported, md.RevocationEndpointAuthSigningAlgValuesSupported} {
		if !slices.Equal(got, []string{"RS256", "PS256", "ES256", "EdDSA"}) {
			t.Fatalf("signing algs %v", got)
		}
	}
	off := newFixture(t, func(c *authz.Config) {
		c.ClientAuthenticators = map[string]authz.ClientAuthenticator{oauth.AuthPrivateKeyJWT: nil}
	})
	md = off.srv.Metadata()
	if slices.Contains(md.TokenEndpointAuthMethodsSupported, "private_key_jwt") || md.TokenEndpointAuthSigningAlgValuesSupported != nil {
		t.Fatalf("disabled method listed: %v %v", md.TokenEndpointAuthMethodsSupported, md.TokenEndpointAuthSigningAlgValuesSupported)
	}
	if _, err := off.srv.CreateClient(context.Background(), &storage.Client{ID: "k", AuthMethod: oauth.AuthPrivateKeyJWT, JWKSURI: "https://keys.example.com/jwks"}); err == nil {
		t.Fatal("registered a client for a disabled method")
	}
}

// jwksServer is a client's jwks_uri over TLS, counting fetches.
type jwksServer struct {
	mu      sync.Mutex
	body    []byte
	fetches atomic.Int32
	srv     *httptest.Server
}

func newJWKSServer(t *testing.T, keys ...jose.JSONWebKey) *jwksServer {
	j := &jwksServer{}
	j.set(t, keys...)
	j.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.fetches.Add(1)
		j.mu.Lock()
		b := j.body
		j.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(b)
	}))
	t.Cleanup(j.srv.Close)
	return j
}

func (j *jwksServer) set(t *testing.T, keys ...jose.JSONWebKey) {
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	must(t, err)
	j.mu.Lock()
	j.body = b
	j.mu.Unlock()
}

// TestPrivateKeyJWTJWKSURI: a jwks_uri is fetched once and cached; an
// unknown kid refetches it, at most once a minute; a document over the
// size bound is refused.
func TestPrivateKeyJWTJWKSURI(t *testing.T) {
	k1, k2 := mustEC(t), mustEC(t)
	pub := func(k *ecdsa.PrivateKey, kid string) jose.JSONWebKey {
		return jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256"}
	}
	js := newJWKSServer(t, pub(k1, "k1"))
	c := newPKFixture(t, func(cfg *authz.Config) { cfg.ClientJWKSClient = js.srv.Client() })
	ctx := context.Background()
	_, err := c.f.srv.CreateClient(ctx, &storage.Client{ID: "remote", GrantTypes: []string{"client_credentials"},
		AuthMethod: oauth.AuthPrivateKeyJWT, JWKSURI: js.srv.URL + "/jwks"})
	must(t, err)
	must(t, c.f.store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "remote", Audience: usersAPI, Scopes: []string{"read:users"}}))
	ep := c.f.srv.Metadata().TokenEndpoint
	form := url.Values{"grant_type": {"client_credentials"}, "audience": {usersAPI}}
	assert := func(k *ecdsa.PrivateKey, kid string) (int, map[string]any) {
		cl := c.claims()
		cl["iss"], cl["sub"] = "remote", "remote"
		resp, body := postForm(t, ep, withAssertion(form, sign(t, jose.ES256, k, kid, cl)), nil)
		return resp.StatusCode, body
	}
	for i := range 3 {
		if st, body := assert(k1, "k1"); st != 200 {
			t.Fatalf("assertion %d: %d %v", i, st, body)
		}
	}
	if n := js.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for three assertions, want 1 (cached)", n)
	}
	// The client rotates: a new kid refetches, but not within a minute of
	// the last fetch.
	js.set(t, pub(k1, "k1"), pub(k2, "k2"))
	if st, _ := assert(k2, "k2"); st != 401 {
		t.Fatalf("new kid within the minimum interval: %d", st)
	}
	if n := js.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want no refetch within a minute", n)
	}
	c.clock.t = c.clock.t.Add(61 * time.Second)
	if st, body := assert(k2, "k2"); st != 200 {
		t.Fatalf("new kid after the interval: %d %v", st, body)
	}
	if n := js.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	// Unknown kids do not make it fetch more than once a minute.
	for range 5 {
		if st, _ := assert(mustEC(t), "ghost"); st != 401 {
			t.Fatalf("unknown kid accepted")
		}
	}
	if n := js.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after unknown kids, want 2", n)
	}

	// A document over the bound is refused.
	big := newJWKSServer(t)
	big.mu.Lock()
	big.body = []byte(`{"keys":[],"pad":"` + strings.Repeat("x", 65<<10) + `"}`)
	big.mu.Unlock()
	c2 := newPKFixture(t, func(cfg *authz.Config) { cfg.ClientJWKSClient = big.srv.Client() })
	_, err = c2.f.srv.CreateClient(ctx, &storage.Client{ID: "remote", GrantTypes: []string{"client_credentials"},
		AuthMethod: oauth.AuthPrivateKeyJWT, JWKSURI: big.srv.URL + "/jwks"})
	must(t, err)
	cl := c2.claims()
	cl["iss"], cl["sub"] = "remote", "remote"
	if resp, body := postForm(t, c2.f.srv.Metadata().TokenEndpoint, withAssertion(form, sign(t, jose.ES256, k1, "k1", cl)), nil); resp.StatusCode != 401 {
		t.Fatalf("oversized JWKS: %d %v", resp.StatusCode, body)
	}
}
