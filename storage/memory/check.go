package memory

import (
	"context"

	"github.com/scopekit/scopekit/storage"
)

var _ storage.Checker = (*Store)(nil)

// Check implements storage.Checker: the process's memory always answers.
func (s *Store) Check(context.Context) error { return nil }
