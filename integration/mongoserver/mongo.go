// Package mongoserver starts a MongoDB-wire server for tests: FerretDB
// embedded in the test process, or the deployment MONGODB_URI names. A
// server that cannot start fails the test loudly, never skips it.
package mongoserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/scopekit/scopekit/internal/testserver"
)

// Mongo is a MongoDB-wire server for tests: FerretDB embedded in the test
// process with its SQLite backend, on a loopback port (StartMongo); or the
// real MongoDB deployment MONGODB_URI names (ExternalMongo).
type Mongo struct {
	t testing.TB
	// URI is the connection string.
	URI string
	// Embedded is false for the external server, which tests cannot stop.
	Embedded bool
	dir      string
	addr     string
	cancel   context.CancelFunc
	done     chan error
}

var databases atomic.Int64

// ExternalMongo returns the MongoDB deployment named by MONGODB_URI, or nil
// when the variable is not set. Tests run against it in addition to the
// embedded server, never instead of it.
func ExternalMongo(t testing.TB) *Mongo {
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		return nil
	}
	return &Mongo{t: t, URI: uri}
}

// StartMongo starts the embedded server, stopped when the test ends. It
// always embeds FerretDB, whether or not MONGODB_URI is set.
func StartMongo(t testing.TB) *Mongo {
	t.Helper()
	m := &Mongo{t: t, Embedded: true, dir: t.TempDir(), addr: "127.0.0.1:" + strconv.Itoa(testserver.FreePort(t))}
	m.Start()
	t.Cleanup(m.Stop)
	return m
}

// Start starts (or restarts) the embedded server on its port and data.
func (m *Mongo) Start() {
	m.t.Helper()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: m.addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + m.dir + "/",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		m.t.Fatalf("embedded FerretDB: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan error, 1)
	go func() { m.done <- f.Run(ctx) }()
	m.URI = "mongodb://" + m.addr + "/"
	c := m.connect(500 * time.Millisecond)
	defer c.Disconnect(context.Background())
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := c.Ping(ctx, nil)
		cancel()
		if err == nil {
			return
		}
		select {
		case err := <-m.done:
			m.t.Fatalf("embedded FerretDB stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("embedded FerretDB did not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the embedded server; Start brings it back.
func (m *Mongo) Stop() {
	if !m.Embedded {
		m.t.Fatal("mongoserver: the external MongoDB cannot be stopped")
	}
	if m.cancel == nil {
		return
	}
	m.cancel()
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		m.t.Errorf("embedded FerretDB did not stop")
	}
	m.cancel = nil
}

func (m *Mongo) connect(selection time.Duration) *mongodriver.Client {
	opts := options.Client().ApplyURI(m.URI).SetServerSelectionTimeout(selection).SetConnectTimeout(time.Second).
		SetTimeout(15 * time.Second)
	c, err := mongodriver.Connect(context.Background(), opts)
	if err != nil {
		m.t.Fatalf("mongo client: %v", err)
	}
	return c
}

// Database returns a fresh database on the server through a client with a
// short server-selection timeout; both are dropped when the test ends.
func (m *Mongo) Database(t testing.TB) *mongodriver.Database {
	t.Helper()
	c := m.connect(time.Second)
	db := c.Database(fmt.Sprintf("scopekit_test_%d_%d", os.Getpid(), databases.Add(1)))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) && m.Embedded && m.cancel != nil {
			t.Logf("dropping %s: %v", db.Name(), err)
		}
		_ = c.Disconnect(ctx)
	})
	return db
}
