package flows_test

import (
	"testing"

	"github.com/scopekit/scopekit/integration/flows"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

func TestMemoryFlows(t *testing.T) {
	flows.RunFlows(t, func(*testing.T) storage.Store { return memory.New() })
}
