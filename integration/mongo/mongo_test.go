package mongo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/scopekit/scopekit/integration/flows"
	"github.com/scopekit/scopekit/integration/mongoserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/mongo"
	"github.com/scopekit/scopekit/storage/storagetest"
)

func newStoreOn(srv *mongoserver.Mongo) storagetest.NewStore {
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
	storagetest.Run(t, newStoreOn(mongoserver.StartMongo(t)))
}

func TestFlows(t *testing.T) {
	flows.RunFlows(t, newStoreOn(mongoserver.StartMongo(t)))
}

// TestConformanceExternal runs the suite against a real MongoDB too when
// MONGODB_URI names one; the embedded server runs it in every case.
func TestConformanceExternal(t *testing.T) {
	srv := mongoserver.ExternalMongo(t)
	if srv == nil {
		t.Skip("MONGODB_URI is not set: the suite ran on the embedded FerretDB (TestConformance)")
	}
	t.Run("Conformance", func(t *testing.T) { storagetest.Run(t, newStoreOn(srv)) })
	t.Run("Flows", func(t *testing.T) { flows.RunFlows(t, newStoreOn(srv)) })
}

func TestIndexesAndPurge(t *testing.T) {
	srv := mongoserver.StartMongo(t)
	db := srv.Database(t)
	s, err := mongo.New(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ttl, err := s.EnsureIndexes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ttl {
		t.Fatal("the embedded FerretDB answers NotImplemented to TTL indexes, yet EnsureIndexes reports them")
	}
	if _, err := s.EnsureIndexes(ctx); err != nil {
		t.Fatalf("EnsureIndexes is not idempotent: %v", err)
	}
	past := time.Now().Add(-time.Minute)
	live := time.Now().Add(time.Hour)
	must(t, s.CreateCode(ctx, &storage.AuthCode{Hash: "old", ExpiresAt: past}))
	must(t, s.CreateCode(ctx, &storage.AuthCode{Hash: "new", ExpiresAt: live}))
	// Expire two records in place, as time would.
	must(t, s.RevokeToken(ctx, &storage.Revocation{JTI: "j", ExpiresAt: time.Now().Add(300 * time.Millisecond)}))
	must(t, s.CreateAuthRequest(ctx, &storage.AuthRequest{ID: "r", ExpiresAt: time.Now().Add(300 * time.Millisecond)}))
	time.Sleep(400 * time.Millisecond)
	if _, err := s.ConsumeCode(ctx, "old"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("expired code returned: %v", err)
	}
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
	if n != 3 {
		t.Fatalf("Purge deleted %d records, want the 3 expired ones", n)
	}
	if _, err := s.ConsumeCode(ctx, "new"); err != nil {
		t.Fatalf("Purge deleted a live record: %v", err)
	}
	for _, name := range []string{"codes", "revocations", "auth_requests", "claims", "families"} {
		left, err := db.Collection("scopekit_"+name).CountDocuments(ctx, bson.M{"expires_at": bson.M{"$lte": time.Now()}})
		must(t, err)
		if left != 0 {
			t.Fatalf("%d expired documents left in %s after Purge", left, name)
		}
	}
}

// TestRevokeRacingCreate: whichever of RevokeFamily and CreateFamily runs
// first, the family ends up revoked, and its revocation lasts as long as
// the family does, not only as long as a tombstone.
func TestRevokeRacingCreate(t *testing.T) {
	srv := mongoserver.StartMongo(t)
	db := srv.Database(t)
	s, err := mongo.New(db, nil)
	must(t, err)
	ctx := context.Background()
	month := time.Now().Add(30 * 24 * time.Hour)
	for i := 0; i < 20; i++ {
		id := fmt.Sprint("f", i)
		var wg sync.WaitGroup
		var createErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			createErr = s.CreateFamily(ctx, &storage.Family{ID: id, ExpiresAt: month}, &storage.RefreshToken{Hash: "t", Family: id, ExpiresAt: month})
		}()
		go func() { defer wg.Done(); must(t, s.RevokeFamily(ctx, id)) }()
		wg.Wait()
		if createErr != nil && !errors.Is(createErr, storage.ErrRevoked) {
			t.Fatalf("CreateFamily: %v", createErr)
		}
		if revoked, err := s.TokenRevoked(ctx, id, id+".j"); err != nil || !revoked {
			t.Fatalf("family %s not revoked: %v %v", id, revoked, err)
		}
		if _, err := s.GetRefresh(ctx, id, "t"); !errors.Is(err, storage.ErrRevoked) && !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("refresh token of a revoked family: %v", err)
		}
		var c struct {
			ExpiresAt time.Time `bson:"expires_at"`
		}
		must(t, db.Collection("scopekit_claims").FindOne(ctx, bson.M{"_id": "\x1ffam\x1f" + id}).Decode(&c))
		if c.ExpiresAt.Before(month.Add(-time.Second)) {
			t.Fatalf("revocation of %s expires at %v, before its family (%v)", id, c.ExpiresAt, month)
		}
	}
}

// TestCorruptRecord: a document that does not decode is ErrCorrupt, and
// the error carries nothing of the decoder's message.
func TestCorruptRecord(t *testing.T) {
	srv := mongoserver.StartMongo(t)
	db := srv.Database(t)
	s, err := mongo.New(db, nil)
	must(t, err)
	ctx := context.Background()
	_, err = db.Collection("scopekit_clients").InsertOne(ctx, bson.M{"_id": "\x1fbad", "tenant": "", "client_id": "bad", "client_name": 42})
	must(t, err)
	_, err = db.Collection("scopekit_codes").InsertOne(ctx, bson.M{"_id": "\x1fh", "tenant": "", "hash": "h", "sub": bson.A{1}, "expires_at": time.Now().Add(time.Hour)})
	must(t, err)
	_, getErr := s.Clients().Get(ctx, "bad")
	_, listErr := s.Clients().List(ctx, storage.ListQuery{})
	_, codeErr := s.ConsumeCode(ctx, "h")
	for name, err := range map[string]error{"Get": getErr, "List": listErr, "ConsumeCode": codeErr} {
		if !errors.Is(err, storage.ErrCorrupt) {
			t.Fatalf("%s of a corrupt record: %v", name, err)
		}
		if msg := err.Error(); strings.Contains(msg, "decode") || strings.Contains(msg, "bson") || strings.Contains(msg, "42") {
			t.Fatalf("%s leaks the decoder's message: %q", name, msg)
		}
	}
	err = s.Users().Create(ctx, &storage.User{ID: "u", AppMetadata: map[string]any{"f": func() {}}})
	if !errors.Is(err, storage.ErrInvalid) || strings.Contains(err.Error(), "func") {
		t.Fatalf("a record that does not serialise: %v", err)
	}
}

// TestServerDownFailsClosed stops the embedded server mid-run: operations
// fail with ErrUnavailable, then work again with the same store once it is
// back.
func TestServerDownFailsClosed(t *testing.T) {
	srv := mongoserver.StartMongo(t)
	s, err := mongo.New(srv.Database(t), &mongo.Options{Timeout: 5 * time.Second})
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
	srv := mongoserver.StartMongo(t)
	s, err := mongo.New(srv.Database(t), &mongo.Options{Timeout: 5 * time.Second})
	must(t, err)
	_, err = s.EnsureIndexes(context.Background())
	must(t, err)
	flows.RunOutage(t, s, srv.Stop, srv.Start)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkListPage pages through directories of 10,000 and 100,000 users
// on the embedded FerretDB, or MONGODB_URI's server
// (storagetest.BenchmarkListPage). The users are seeded in bulk
// (InsertMany of the documents the driver writes), not one Create each.
// FerretDB v1 (SQLite) does not serve the _id range, sort and limit from an
// index, so a page there costs a scan (docs/PERFORMANCE.md), and the
// store's timeout is raised to let the largest size finish.
func BenchmarkListPage(b *testing.B) {
	var srv *mongoserver.Mongo
	if os.Getenv("MONGODB_URI") != "" {
		srv = mongoserver.ExternalMongo(b)
	} else {
		srv = mongoserver.StartMongo(b)
	}
	db := srv.Database(b)
	s, err := mongo.New(db, &mongo.Options{Timeout: 5 * time.Minute})
	must(b, err)
	_, err = s.EnsureIndexes(context.Background())
	must(b, err)
	users := db.Collection("scopekit_users")
	storagetest.BenchmarkListPage(b, s, nil, func(b *testing.B, from, to int) {
		const batch = 1000
		for lo := from; lo < to; lo += batch {
			docs := make([]any, 0, batch)
			for i := lo; i < min(lo+batch, to); i++ {
				u := storagetest.BenchUser(i)
				docs = append(docs, bson.M{"_id": storage.KeySep + u.ID, "tenant": "", "revision": int64(i + 1),
					"user_id": u.ID, "name": u.Name, "email": u.Email, "email_key": storage.EmailKey(u.Email), "groups": u.Groups})
			}
			_, err := users.InsertMany(context.Background(), docs)
			must(b, err)
		}
	})
}
