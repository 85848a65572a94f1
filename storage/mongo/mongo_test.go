package mongo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/mongo"
	"github.com/scopekit/scopekit/storage/storagetest"
)

func newStoreOn(srv *testserver.Mongo) storagetest.NewStore {
	return func(t *testing.T) storage.Store {
		s, err := mongo.New(srv.Database(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.EnsureIndexes(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, newStoreOn(testserver.StartMongo(t)))
}

func TestFlows(t *testing.T) {
	storagetest.RunFlows(t, newStoreOn(testserver.StartMongo(t)))
}

func TestIndexesAndPurge(t *testing.T) {
	srv := testserver.StartMongo(t)
	s, err := mongo.New(srv.Database(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ttl, err := s.EnsureIndexes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureIndexes(ctx); err != nil {
		t.Fatalf("EnsureIndexes is not idempotent: %v", err)
	}
	t.Logf("TTL indexes supported: %v", ttl)
	past := time.Now().Add(-time.Minute)
	live := time.Now().Add(time.Hour)
	must(t, s.CreateCode(ctx, &storage.AuthCode{Hash: "old", ExpiresAt: live}))
	must(t, s.CreateCode(ctx, &storage.AuthCode{Hash: "new", ExpiresAt: live}))
	// Expire one record in place, as time would.
	must(t, s.RevokeToken(ctx, &storage.Revocation{JTI: "j", ExpiresAt: time.Now().Add(300 * time.Millisecond)}))
	must(t, s.CreateAuthRequest(ctx, &storage.AuthRequest{ID: "r", ExpiresAt: time.Now().Add(300 * time.Millisecond)}))
	time.Sleep(400 * time.Millisecond)
	if revoked, _ := s.TokenRevoked(ctx, "", "j"); revoked {
		t.Fatal("an expired revocation is still reported")
	}
	if _, err := s.GetAuthRequest(ctx, "r"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("expired request returned: %v", err)
	}
	n, err := s.Purge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ttl && n != 2 {
		t.Fatalf("Purge deleted %d records, want the 2 expired ones", n)
	}
	if _, err := s.ConsumeCode(ctx, "new"); err != nil {
		t.Fatalf("Purge deleted a live record: %v", err)
	}
	_ = past
}

// TestServerDownFailsClosed stops the embedded server mid-run: operations
// fail with ErrUnavailable, then work again with the same store once it is
// back.
func TestServerDownFailsClosed(t *testing.T) {
	srv := testserver.StartMongo(t)
	if !srv.Embedded {
		t.Skip("MONGODB_URI points at an external server, which the test cannot stop; the embedded server runs this test")
	}
	s, err := mongo.New(srv.Database(t), &mongo.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = s.EnsureIndexes(ctx)
	must(t, err)
	must(t, s.Clients().Create(ctx, &storage.Client{ID: "svc"}))
	srv.Stop()
	hour := time.Now().Add(time.Hour)
	for name, op := range map[string]func() error{
		"Resolve":     func() error { _, err := s.Resolve(ctx, "svc", "x"); return err },
		"CreateCode":  func() error { return s.CreateCode(ctx, &storage.AuthCode{Hash: "h", ExpiresAt: hour}) },
		"RevokeToken": func() error { return s.RevokeToken(ctx, &storage.Revocation{JTI: "j", ExpiresAt: hour}) },
		"TokenRevoked": func() error {
			_, err := s.TokenRevoked(ctx, "f", "j")
			return err
		},
	} {
		start := time.Now()
		if err := op(); !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("%s with the server down: %v", name, err)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s took %v", name, time.Since(start))
		}
	}
	srv.Start()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := s.Clients().Get(ctx, "svc")
		if err == nil && c.ID == "svc" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store did not recover: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestIssuerOutage stops the embedded server under a running issuer.
func TestIssuerOutage(t *testing.T) {
	srv := testserver.StartMongo(t)
	if !srv.Embedded {
		t.Skip("MONGODB_URI points at an external server, which the test cannot stop; the embedded server runs this test")
	}
	s, err := mongo.New(srv.Database(t), &mongo.Options{Timeout: time.Second})
	must(t, err)
	_, err = s.EnsureIndexes(context.Background())
	must(t, err)
	storagetest.RunOutage(t, s, srv.Stop, srv.Start)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
