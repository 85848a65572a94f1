package testserver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Redis is a redis-server process on a loopback port, stopped when the test
// ends. Stop and Start restart it on the same port and data directory.
type Redis struct {
	t testing.TB
	// Addr is the server's loopback address, host:port.
	Addr string
	dir  string
	args []string
	cmd  *exec.Cmd
}

// redisBinary finds redis-server or fails the test with the install hint.
func redisBinary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run the README's test command (bash scripts/test.sh), which installs it with apt-get install -y redis-server redis-tools", name)
	}
	return path
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// StartRedis starts a redis-server with extra configuration arguments
// (e.g. "--appendonly", "yes").
func StartRedis(t testing.TB, extra ...string) *Redis {
	t.Helper()
	redisBinary(t, "redis-server")
	port := FreePort(t)
	r := &Redis{t: t, Addr: "127.0.0.1:" + strconv.Itoa(port), dir: t.TempDir()}
	r.args = append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no"}, extra...)
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// Start starts (or restarts) the server and waits until it answers PING.
func (r *Redis) Start() {
	r.t.Helper()
	r.cmd = exec.Command(redisBinary(r.t, "redis-server"), r.args...)
	r.cmd.Dir = r.dir
	logf, err := os.Create(filepath.Join(r.dir, fmt.Sprintf("redis-%d.log", time.Now().UnixNano())))
	if err != nil {
		r.t.Fatal(err)
	}
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("starting redis-server: %v", err)
	}
	WaitRedis(r.t, r.Addr)
}

// Stop stops the server; Start brings it back.
func (r *Redis) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// Pause stops the server process with SIGSTOP: it keeps its connections
// but answers nothing, like a hung server. Resume continues it.
func (r *Redis) Pause() {
	r.t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		r.t.Fatalf("SIGSTOP redis-server: %v", err)
	}
	r.t.Cleanup(r.Resume) // a stopped process would not die on Kill alone
}

// Resume continues a paused server with SIGCONT.
func (r *Redis) Resume() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Signal(syscall.SIGCONT)
	}
}

// ClientOptions are the options of the clients tests use: the ones
// docs/REDIS.md recommends, context deadlines honoured.
func ClientOptions(addr string) *goredis.Options {
	return &goredis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second,
		WriteTimeout: time.Second, MaxRetries: -1, ContextTimeoutEnabled: true}
}

// Client returns a client of the server, closed when the test ends.
func (r *Redis) Client() *goredis.Client {
	c := goredis.NewClient(ClientOptions(r.Addr))
	r.t.Cleanup(func() { c.Close() })
	return c
}

// WaitRedis waits up to 10 seconds for a server at addr to answer PING.
func WaitRedis(t testing.TB, addr string) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis at %s did not start: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// RedisCluster is a Redis Cluster of masters without replicas, on loopback.
type RedisCluster struct {
	// Addrs are the nodes' addresses.
	Addrs []string
	nodes []*Redis
}

// StartRedisCluster starts n cluster-enabled servers (with extra
// configuration arguments, e.g. "--appendonly", "yes") and joins them with
// redis-cli --cluster create, then waits until every node reports
// cluster_state:ok.
func StartRedisCluster(t testing.TB, n int, extra ...string) *RedisCluster {
	t.Helper()
	cli := redisBinary(t, "redis-cli")
	rc := &RedisCluster{}
	for i := 0; i < n; i++ {
		args := append([]string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"}, extra...)
		node := StartRedis(t, args...)
		rc.nodes = append(rc.nodes, node)
		rc.Addrs = append(rc.Addrs, node.Addr)
	}
	args := append([]string{"--cluster", "create"}, rc.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range rc.Addrs {
		c := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
		for {
			info, err := c.ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				c.Close()
				t.Fatalf("cluster node %s not ready: %v %q", addr, err, info)
			}
			time.Sleep(100 * time.Millisecond)
		}
		c.Close()
	}
	return rc
}

// Node returns the node at Addrs[i], to stop or pause it.
func (rc *RedisCluster) Node(i int) *Redis { return rc.nodes[i] }

// Client returns a cluster client, closed when the test ends.
func (rc *RedisCluster) Client(t testing.TB) *goredis.ClusterClient {
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: rc.Addrs, DialTimeout: time.Second,
		ReadTimeout: time.Second, WriteTimeout: time.Second, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}
