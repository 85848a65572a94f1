package mongo_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/integration/mongoserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/mongo"
)

// TestCheckPingsPrimary: Check answers while the server does, fails with
// storage.ErrUnavailable (no address in the text) while it is stopped, and
// answers again once it is back.
func TestCheckPingsPrimary(t *testing.T) {
	srv := mongoserver.StartMongo(t)
	s, err := mongo.New(srv.Database(t), nil)
	must(t, err)
	ctx := context.Background()
	must(t, s.Check(ctx))
	must(t, s.Tenant("acme").(storage.Checker).Check(ctx))
	srv.Stop()
	if err := s.Check(ctx); !errors.Is(err, storage.ErrUnavailable) || strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("stopped: %v", err)
	}
	srv.Start()
	must(t, s.Check(ctx))
}
