package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/storage"
	sredis "github.com/scopekit/scopekit/storage/redis"
)

// redisServer is a redis-server child process on a free loopback port,
// without persistence.
type redisServer struct {
	addr    string
	cmd     *exec.Cmd
	dir     string
	clients []*goredis.Client
}

func startRedis() (*redisServer, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server is not installed (apt-get install -y redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, err := os.MkdirTemp("", "scopekit-load-redis")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return &redisServer{addr: "127.0.0.1:" + strconv.Itoa(port), cmd: cmd, dir: dir}, nil
}

// store is the scopekit Redis driver on database db, once the server
// answers.
func (r *redisServer) store(ctx context.Context, db int) (storage.Store, error) {
	rdb := goredis.NewClient(&goredis.Options{Addr: r.addr, DB: db, PoolSize: 64, ContextTimeoutEnabled: true})
	r.clients = append(r.clients, rdb)
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s, err := sredis.New(rdb, nil)
	if err == nil {
		err = s.CheckConfig(ctx)
	}
	return s, err
}

// stop closes the clients and ends the server.
func (r *redisServer) stop() {
	for _, c := range r.clients {
		_ = c.Close()
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	_ = os.RemoveAll(r.dir)
}
