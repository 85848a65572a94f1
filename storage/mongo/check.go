package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/mongo/readpref"

	"github.com/scopekit/scopekit/storage"
)

var _ storage.Checker = (*Store)(nil)

// Check implements storage.Checker: a ping of the primary (writes go
// there, reads too by default), within ctx or Options.Timeout. A failure
// wraps storage.ErrUnavailable without the driver's text.
func (s *Store) Check(ctx context.Context) error {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer cancel()
	return mapErr(s.db.Client().Ping(ctx, readpref.Primary()))
}
