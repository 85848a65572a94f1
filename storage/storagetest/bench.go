package storagetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/scopekit/scopekit/storage"
)

// Paging benchmarks: every driver pages through the same directories.
const (
	// BenchPageSize is the page size of BenchmarkListPage.
	BenchPageSize = 100
	// BenchGroup is the group every benchmark user belongs to.
	BenchGroup = "everyone"
)

// BenchSizes are the directory sizes BenchmarkListPage measures.
var BenchSizes = []int{10_000, 100_000}

// BenchUserID is the id of the i-th benchmark user; ids sort as numbers.
func BenchUserID(i int) string { return fmt.Sprintf("user%07d", i) }

// BenchUser is the i-th benchmark user: a member of BenchGroup.
func BenchUser(i int) *storage.User {
	return &storage.User{ID: BenchUserID(i), Name: "User", Email: BenchUserID(i) + "@example.com", Groups: []string{BenchGroup}}
}

// SeedUsers creates the benchmark users from..to-1 through the contract,
// with a few writers at once.
func SeedUsers(b *testing.B, s storage.Store, from, to int) {
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := from + w; i < to && errs[w] == nil; i += writers {
				errs[w] = s.Users().Create(bg, BenchUser(i))
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListPage reads one page of BenchPageSize users, by List and by
// GroupMembers, at the first, middle and last page of each directory size
// of sizes (BenchSizes when nil). seed(from, to) must add the users BenchUser(from..to-1)
// to s; sizes grow on the same store. A page's cost must not grow with the
// directory, nor with its depth.
func BenchmarkListPage(b *testing.B, s storage.Store, sizes []int, seed func(b *testing.B, from, to int)) {
	if sizes == nil {
		sizes = BenchSizes
	}
	have := 0
	for _, n := range sizes {
		seed(b, have, n)
		have = n
		pages := n / BenchPageSize
		for _, p := range []int{1, pages / 2, pages} {
			var after string
			if p > 1 {
				after = storage.EncodeCursor(BenchUserID((p-1)*BenchPageSize - 1))
			}
			q := storage.ListQuery{After: after, Limit: BenchPageSize}
			for _, by := range []string{"List", "GroupMembers"} {
				b.Run(fmt.Sprintf("users=%d/page=%d/%s", n, p, by), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						var page storage.Page[storage.User]
						var err error
						if by == "List" {
							page, err = s.Users().List(bg, q)
						} else {
							page, err = s.GroupMembers(bg, BenchGroup, q)
						}
						if err != nil {
							b.Fatal(err)
						}
						if len(page.Items) != BenchPageSize || page.Items[0].ID != BenchUserID((p-1)*BenchPageSize) {
							b.Fatalf("page %d: %d users", p, len(page.Items))
						}
					}
				})
			}
		}
	}
}
