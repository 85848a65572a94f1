package mongo_test

import (
	"context"
	"testing"

	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"

	"github.com/scopekit/scopekit/storage/mongo"
)

// offlineDatabase is a database handle of a client that never dials: New
// and the options it applies need no server. The conformance run on a real
// server is in the integration module.
func offlineDatabase(t *testing.T) *mongodriver.Database {
	t.Helper()
	c, err := mongodriver.Connect(context.Background(), options.Client().ApplyURI("mongodb://127.0.0.1:1/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c.Database("scopekit_offline")
}

func TestDefaultWriteConcernIsMajority(t *testing.T) {
	s, err := mongo.New(offlineDatabase(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if wc := mongo.WriteConcern(s); wc == nil || wc.W != "majority" {
		t.Fatalf("default write concern %+v, want majority", wc)
	}
	s, err = mongo.New(offlineDatabase(t), &mongo.Options{WriteConcern: writeconcern.W1()})
	if err != nil {
		t.Fatal(err)
	}
	if wc := mongo.WriteConcern(s); wc.W != 1 {
		t.Fatalf("write concern option ignored: %+v", wc)
	}
}
