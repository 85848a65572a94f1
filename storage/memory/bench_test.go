package memory_test

import (
	"testing"

	"github.com/scopekit/scopekit/storage/memory"
	"github.com/scopekit/scopekit/storage/storagetest"
)

func BenchmarkListPage(b *testing.B) {
	s := memory.New()
	storagetest.BenchmarkListPage(b, s, nil, func(b *testing.B, from, to int) { storagetest.SeedUsers(b, s, from, to) })
}
