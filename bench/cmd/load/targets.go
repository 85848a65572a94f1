package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/scopekit/scopekit/bench/internal/peers"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// impls are the token endpoints the tool drives by default, in the
// table's order.
var impls = []string{"scopekit-memory", "scopekit-redis", "fosite", "zitadel", "node-oidc-provider", "go-oauth2"}

// protected is the extra target of -impl that is no token endpoint:
// scopekit's resource-server check (Authorizer.RequireScopes) in front of a
// handler, on the routes of examples/quickstart, driven with one token.
const protected = "scopekit-memory GET /users"

// target is one implementation serving one algorithm on loopback.
type target struct {
	impl, alg string
	// url is its token endpoint; form and Basic credentials make the
	// request.
	url   string
	form  string
	close func()
	// bearer, when set, makes the request a GET with this access token
	// (RFC 6750 §2.1) instead.
	bearer string
}

// request builds one request of the target.
func (t *target) request() (*http.Request, error) {
	if t.bearer != "" {
		req, err := http.NewRequest("GET", t.url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+t.bearer)
		return req, nil
	}
	req, err := http.NewRequest("POST", t.url, strings.NewReader(t.form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(peers.ClientID, peers.ClientSecret)
	return req, nil
}

// env is what the targets share: the Redis server and the options.
type env struct {
	redis   *redisServer // nil until a scopekit-redis target needs it
	redisDB int
	nodeDir string
	sk      peers.ScopekitOptions
}

// close releases the shared Redis server.
func (e *env) close() {
	if e.redis != nil {
		e.redis.stop()
	}
}

// start builds the target of impl for k: its server on a loopback
// listener, and checks that it answers the request with a token.
func (e *env) start(ctx context.Context, impl string, k *peers.Key) (*target, error) {
	t := &target{impl: impl, alg: k.Alg, form: peers.Form().Encode()}
	var h http.Handler
	switch impl {
	case protected:
		return e.startProtected(ctx, k)
	case "scopekit-memory", "scopekit-redis":
		store, err := e.store(ctx, impl)
		if err != nil {
			return nil, err
		}
		srv, err := peers.Scopekit(ctx, store, k, e.sk)
		if err != nil {
			return nil, err
		}
		h = srv.Handler()
	case "fosite":
		f, err := peers.NewFosite(k, peers.FositeSHA256)
		if err != nil {
			return nil, err
		}
		h = f
	case "zitadel":
		z, err := peers.Zitadel(k)
		if err != nil {
			return nil, err
		}
		h = z
	case "go-oauth2":
		g, err := peers.GoOAuth2(k)
		if err != nil {
			return nil, err
		}
		h = g
	case "node-oidc-provider":
		n, err := peers.StartNode(e.nodeDir, k)
		if err != nil {
			return nil, err
		}
		t.url, t.form, t.close = n.URL, peers.NodeForm().Encode(), n.Close
	default:
		return nil, fmt.Errorf("unknown implementation %q", impl)
	}
	if h != nil {
		base, stop, err := serve(h)
		if err != nil {
			return nil, err
		}
		t.url, t.close = base+"/oauth/token", stop
	}
	if _, err := fetchToken(http.DefaultClient, t); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// startProtected serves scopekit on the memory store with GET /users
// behind RequireScopes, as examples/quickstart routes it (a main package
// that exports nothing to import), and takes one token for the requests.
func (e *env) startProtected(ctx context.Context, k *peers.Key) (*target, error) {
	srv, err := peers.Scopekit(ctx, memory.New(), k, e.sk)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.Handle("GET /users", srv.Authorizer(peers.APIID).RequireScopes(peers.Scopes[0])(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`[{"id":1}]`))
	})))
	base, stop, err := serve(mux)
	if err != nil {
		return nil, err
	}
	t := &target{impl: protected, alg: k.Alg, url: base + "/oauth/token", form: peers.Form().Encode(), close: stop}
	tok, err := fetchToken(http.DefaultClient, t)
	if err != nil {
		stop()
		return nil, err
	}
	t.url, t.bearer = base+"/users", tok
	req, _ := t.request()
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: status %d", protected, resp.StatusCode)
		}
	}
	if err != nil {
		stop()
		return nil, err
	}
	return t, nil
}

// store is a new store of the scopekit target's driver. Each Redis target
// gets a database of its own on the one redis-server.
func (e *env) store(ctx context.Context, impl string) (storage.Store, error) {
	if impl == "scopekit-memory" {
		return memory.New(), nil
	}
	if e.redis == nil {
		r, err := startRedis()
		if err != nil {
			return nil, err
		}
		e.redis = r
	}
	s, err := e.redis.store(ctx, e.redisDB)
	e.redisDB++
	return s, err
}

// serve runs h on a net/http server on a free loopback port.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = hs.Close() }, nil
}

// tokenResponse is the part of a token response (RFC 6749 §5.1) checked.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// fetchToken sends t's request once and returns its access token; any
// answer but 200 with a token is an error.
func fetchToken(c *http.Client, t *target) (string, error) {
	req, err := t.request()
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return "", err
	}
	var tr tokenResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tr) != nil || tr.AccessToken == "" {
		return "", fmt.Errorf("%s %s: status %d: %s", t.impl, t.alg, resp.StatusCode, body)
	}
	return tr.AccessToken, nil
}

// keepAlive is a client of at most c keep-alive connections.
func keepAlive(c int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c, IdleConnTimeout: time.Minute},
		Timeout: 30 * time.Second}
}
