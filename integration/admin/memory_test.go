package admin_test

import (
	"testing"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

func TestMemory(t *testing.T) {
	runSuite(t, func(*testing.T) storage.Store { return memory.New() })
}
