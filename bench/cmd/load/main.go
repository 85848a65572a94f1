// Command load drives an issuer's token endpoint and a protected endpoint
// over loopback at a fixed concurrency and reports requests per second and
// p50/p99 latency, for the memory or the Redis driver (it starts its own
// redis-server on a free loopback port).
//
//	go run ./cmd/load -driver redis -n 20000 -c 32
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
	sredis "github.com/scopekit/scopekit/storage/redis"
	"github.com/scopekit/scopekit/token"
)

func main() {
	driver := flag.String("driver", "memory", "memory or redis")
	n := flag.Int("n", 20000, "requests per endpoint")
	c := flag.Int("c", 32, "concurrent clients")
	alg := flag.String("alg", "ES256", "signing algorithm of the API")
	admission := flag.Bool("admission", true, "bound the signatures in flight (Config.MaxSigningsInFlight); false disables it")
	reuse := flag.Duration("reuse", 0, "Config.ClientCredentialsReuseWindow (0: every token signed)")
	flag.Parse()
	if !token.Supported(*alg) {
		log.Fatalf("unsupported -alg %q", *alg)
	}
	if err := run(*driver, *alg, *n, *c, *admission, *reuse); err != nil {
		log.Fatal(err)
	}
}

func run(driver, alg string, n, c int, admission bool, reuse time.Duration) error {
	ctx := context.Background()
	store, stop, err := openStore(ctx, driver)
	if err != nil {
		return err
	}
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	srv, err := authz.New(ctx, authz.Config{Issuer: base + "/", Store: store, Grants: []authz.Grant{grant.ClientCredentials{}},
		MaxSigningsInFlight: signings(admission), ClientCredentialsReuseWindow: reuse})
	if err != nil {
		return err
	}
	const api = "https://users.example.com"
	if err := store.APIs().Create(ctx, &storage.API{Identifier: api, Name: "users", SigningAlg: alg, Scopes: []storage.Scope{{Name: "read:users"}}}); err != nil {
		return err
	}
	secret, err := srv.CreateClient(ctx, &storage.Client{ID: "svc", GrantTypes: []string{"client_credentials"}})
	if err != nil {
		return err
	}
	if err := store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "svc", Audience: api, Scopes: []string{"read:users"}}); err != nil {
		return err
	}
	// The routes mirror examples/quickstart's routes(): the issuer's
	// handler at the root and GET /users behind RequireScopes. The
	// quickstart is a main package and exports nothing to import, and it
	// runs on the memory store only; this program also runs it on Redis.
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.Handle("GET /users", srv.Authorizer(api).RequireScopes("read:users")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`[{"id":1}]`))
	})))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}, Timeout: 10 * time.Second}
	form := url.Values{"grant_type": {"client_credentials"}, "audience": {api}}.Encode()
	tokenReq := func() (*http.Request, error) {
		req, err := http.NewRequest("POST", base+"/oauth/token", strings.NewReader(form))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("svc", secret)
		return req, nil
	}
	req, _ := tokenReq()
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.AccessToken == "" {
		return fmt.Errorf("no token: status %d", resp.StatusCode)
	}
	apiReq := func() (*http.Request, error) {
		req, err := http.NewRequest("GET", base+"/users", nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		return req, nil
	}
	fmt.Printf("driver=%s alg=%s concurrency=%d requests=%d\n", driver, alg, c, n)
	for _, ep := range []struct {
		name string
		mk   func() (*http.Request, error)
	}{{"POST /oauth/token", tokenReq}, {"GET /users (protected)", apiReq}} {
		res, err := drive(client, ep.mk, n, c)
		if err != nil {
			return err
		}
		fmt.Printf("  %-24s %8.0f req/s   p50 %7.2f ms   p99 %7.2f ms   errors %d\n", ep.name, res.rps, ms(res.p50), ms(res.p99), res.errors)
	}
	return nil
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int64
}

// drive sends n requests from c workers and measures them.
func drive(client *http.Client, mk func() (*http.Request, error), n, c int) (result, error) {
	lat := make([]time.Duration, n)
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				req, err := mk()
				if err != nil {
					errs.Add(1)
					continue
				}
				t := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					var sink [512]byte
					for {
						if _, rerr := resp.Body.Read(sink[:]); rerr != nil {
							break
						}
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				lat[i] = time.Since(t)
				if err != nil {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return result{rps: float64(n) / elapsed.Seconds(), p50: lat[n/2], p99: lat[n*99/100], errors: errs.Load()}, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// openStore returns the store of the driver and a function that releases it.
func openStore(ctx context.Context, driver string) (storage.Store, func(), error) {
	switch driver {
	case "memory":
		return memory.New(), func() {}, nil
	case "redis":
		return startRedis(ctx)
	}
	return nil, nil, fmt.Errorf("unknown driver %q", driver)
}

func startRedis(ctx context.Context) (storage.Store, func(), error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, nil, fmt.Errorf("redis-server is not installed (apt-get install -y redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, err := os.MkdirTemp("", "scopekit-load-redis")
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = os.RemoveAll(dir) }
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), PoolSize: 64})
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			stop()
			return nil, nil, fmt.Errorf("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s, err := sredis.New(rdb, nil)
	if err == nil {
		err = s.CheckConfig(ctx)
	}
	if err != nil {
		stop()
		return nil, nil, err
	}
	return s, func() { rdb.Close(); stop() }, nil
}

// signings is Config.MaxSigningsInFlight: the default, or -1 (off).
func signings(on bool) int {
	if on {
		return 0
	}
	return -1
}
