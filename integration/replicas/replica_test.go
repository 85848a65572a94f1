package replicas_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/mongo"
	"github.com/scopekit/scopekit/storage/redis"
)

// The replicas are this test binary run again with replicaEnv set: TestMain
// then serves one issuer over the backend the environment names, prints
// its address on stdout and exits when its stdin closes (the test ended).
const (
	replicaEnv  = "SCOPEKIT_REPLICA"             // "redis" or "mongo"
	backendEnv  = "SCOPEKIT_BACKEND"             // cluster addresses (comma-separated), or the MongoDB URI
	databaseEnv = "SCOPEKIT_DATABASE"            // the MongoDB database
	reloadEnv   = "SCOPEKIT_KEY_RELOAD_INTERVAL" // Config.KeyReloadInterval (time.ParseDuration)
	publishEnv  = "SCOPEKIT_KEY_PUBLISH_DELAY"   // Config.KeyPublishDelay (time.ParseDuration)
	issuer      = "https://issuer.replicas.test/"
	api         = "https://api.replicas.test"
)

func TestMain(m *testing.M) {
	if kind := os.Getenv(replicaEnv); kind != "" {
		if err := serveReplica(kind); err != nil {
			fmt.Fprintln(os.Stderr, "replica:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// openStore opens the backend a replica (or the test, to set it up) uses,
// with short timeouts so that an outage answers 503 quickly.
func openStore(ctx context.Context, kind, backend, database string) (storage.Store, func(), error) {
	switch kind {
	case "redis":
		c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: strings.Split(backend, ","), DialTimeout: 300 * time.Millisecond,
			ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, MaxRetries: -1, ContextTimeoutEnabled: true})
		s, err := redis.New(c, &redis.Options{Prefix: "replicas", Timeout: 400 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		return s, func() { c.Close() }, err
	case "mongo":
		c, err := mongodriver.Connect(ctx, options.Client().ApplyURI(backend).SetServerSelectionTimeout(5*time.Second).
			SetConnectTimeout(time.Second).SetTimeout(10*time.Second))
		if err != nil {
			return nil, nil, err
		}
		s, err := mongo.New(c.Database(database), &mongo.Options{Timeout: 10 * time.Second})
		if err == nil {
			_, err = s.EnsureIndexes(ctx)
		}
		return s, func() { _ = c.Disconnect(context.Background()) }, err
	}
	return nil, nil, fmt.Errorf("unknown backend %q", kind)
}

// The key timing of every replica and of the test's own server: short, so
// that a rotation publishes and then signs within seconds. The publish
// delay exceeds the reload interval, as docs/KEYS.md requires.
const (
	keyReloadInterval = time.Second
	keyPublishDelay   = 2 * time.Second
)

// keyTiming reads the key timing a replica was started with.
func keyTiming() (reload, publish time.Duration, err error) {
	if reload, err = time.ParseDuration(os.Getenv(reloadEnv)); err != nil {
		return 0, 0, err
	}
	publish, err = time.ParseDuration(os.Getenv(publishEnv))
	return reload, publish, err
}

// config is every replica's issuer configuration; the test process builds
// its own server (to set up the directory) from it too.
func config(store storage.Store, reload, publish time.Duration) authz.Config {
	return authz.Config{
		Issuer: issuer, Store: store, KeyReloadInterval: reload, KeyPublishDelay: publish,
		Grants: []authz.Grant{grant.ClientCredentials{}, grant.AuthorizationCode{}, grant.RefreshToken{}},
		Login: authz.LoginFuncs{
			SessionFunc: func(r *http.Request) (*authz.Session, error) {
				c, err := r.Cookie("session")
				if err != nil {
					return nil, nil
				}
				return &authz.Session{UserID: c.Value, AuthTime: time.Now()}, nil
			},
			ChallengeFunc: func(w http.ResponseWriter, r *http.Request, returnTo string) {
				http.Error(w, "sign in first", http.StatusUnauthorized)
			},
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// quiet drops go-redis's own log lines (dial failures while a node is
// down are the point of the outage tests).
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func serveReplica(kind string) error {
	goredis.SetLogger(quiet{})
	ctx := context.Background()
	store, closeStore, err := openStore(ctx, kind, os.Getenv(backendEnv), os.Getenv(databaseEnv))
	if err != nil {
		return err
	}
	defer closeStore()
	store = countLookups(store)
	reload, publish, err := keyTiming()
	if err != nil {
		return err
	}
	nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	srv, err := authz.New(nctx, config(store, reload, publish))
	cancel()
	if err != nil {
		return err
	}
	defer srv.Close()
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.Handle("/api", srv.Authorizer(api).RequireScopes("read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})))
	mux.HandleFunc("/revocation-lookups", serveLookups)
	keyControl(mux, srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(ln, mux) }()
	fmt.Println(ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the test closes the pipe
	return nil
}

// startReplicas runs n replicas over the backend and returns their base
// URLs; they stop when the test ends.
func startReplicas(t testing.TB, n int, kind, backend, database string) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	urls := make([]string, n)
	for i := range urls {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), replicaEnv+"="+kind, backendEnv+"="+backend, databaseEnv+"="+database,
			reloadEnv+"="+keyReloadInterval.String(), publishEnv+"="+keyPublishDelay.String())
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stdin.Close()
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		})
		addr := make(chan string, 1)
		go func() {
			line, _ := bufio.NewReader(stdout).ReadString('\n')
			addr <- strings.TrimSpace(line)
			_, _ = io.Copy(io.Discard, stdout)
		}()
		select {
		case a := <-addr:
			if a == "" {
				t.Fatalf("replica %d did not start", i)
			}
			urls[i] = "http://" + a
		case <-time.After(30 * time.Second):
			t.Fatalf("replica %d did not start within 30 s", i)
		}
	}
	return urls
}
