package admin_test

import (
	"testing"

	"github.com/scopekit/scopekit/integration/mongoserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/mongo"
)

// TestMongo runs the suite on a MongoDB-wire server (embedded FerretDB),
// each case in a fresh database.
func TestMongo(t *testing.T) {
	srv := mongoserver.StartMongo(t)
	runSuite(t, func(t *testing.T) storage.Store {
		s, err := mongo.New(srv.Database(t), nil)
		must(t, err)
		return s
	})
}
