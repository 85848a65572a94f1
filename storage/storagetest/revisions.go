package storagetest

import (
	"reflect"
	"sync"
	"testing"

	"github.com/scopekit/scopekit/storage"
)

// concurrentUpdates is how many callers update one revision at once.
const concurrentUpdates = 16

// record is the storage.Record view of a collection's record.
func record(rec any) storage.Record { return rec.(storage.Record) }

// testRevisions checks the optimistic concurrency of a collection: Create
// sets a revision, reads return it, Update compares and swaps it.
func testRevisions[T any](t *testing.T, newStore NewStore, c collCase[T]) {
	t.Run("CreateSetsRevision", func(t *testing.T) {
		s := newStore(t)
		rec := c.make(1, 1)
		Expect(t, c.coll(s).Create(bg, rec), nil, "Create")
		rev := record(rec).Rev()
		if rev == 0 {
			t.Fatal("Create left the revision zero")
		}
		got, err := c.coll(s).Get(bg, c.key(rec))
		Expect(t, err, nil, "Get")
		if record(got).Rev() != rev {
			t.Fatalf("Get revision %d, Create set %d", record(got).Rev(), rev)
		}
		all, err := storage.All(bg, c.coll(s), "")
		Expect(t, err, nil, "List")
		if len(all) != 1 || record(all[0]).Rev() != rev {
			t.Fatalf("List returned %d records, revision %v; want revision %d", len(all), all, rev)
		}
	})
	t.Run("UpdateChains", func(t *testing.T) {
		s := newStore(t)
		rec := c.make(1, 1)
		Expect(t, c.coll(s).Create(bg, rec), nil, "Create")
		seen := map[int64]bool{record(rec).Rev(): true}
		for i := 0; i < 3; i++ {
			c.mutate(rec)
			Expect(t, c.coll(s).Update(bg, rec), nil, "Update at the revision read")
			if seen[record(rec).Rev()] {
				t.Fatalf("update %d repeated revision %d", i, record(rec).Rev())
			}
			seen[record(rec).Rev()] = true
		}
		got, err := c.coll(s).Get(bg, c.key(rec))
		Expect(t, err, nil, "Get")
		if !reflect.DeepEqual(got, rec) {
			t.Fatalf("after chained updates: got %#v want %#v", got, rec)
		}
	})
	t.Run("StaleUpdateConflicts", func(t *testing.T) {
		s := newStore(t)
		rec := c.make(1, 1)
		Expect(t, c.coll(s).Create(bg, rec), nil, "Create")
		stale, err := c.coll(s).Get(bg, c.key(rec))
		Expect(t, err, nil, "Get")
		fresh, err := c.coll(s).Get(bg, c.key(rec))
		Expect(t, err, nil, "Get")
		c.mutate(fresh)
		Expect(t, c.coll(s).Update(bg, fresh), nil, "first Update")
		staleRev := record(stale).Rev()
		Expect(t, c.coll(s).Update(bg, stale), storage.ErrConflict, "Update of a stale copy")
		if record(stale).Rev() != staleRev {
			t.Fatal("a failed Update changed the caller's revision")
		}
		got, err := c.coll(s).Get(bg, c.key(rec))
		Expect(t, err, nil, "Get")
		if !reflect.DeepEqual(got, fresh) {
			t.Fatalf("the stale Update changed the record:\n got %#v\nwant %#v", got, fresh)
		}
	})
	t.Run("RecreatedKeyConflicts", func(t *testing.T) {
		s := newStore(t)
		rec := c.make(1, 1)
		Expect(t, c.coll(s).Create(bg, rec), nil, "Create")
		stale := c.make(1, 1)
		record(stale).SetRev(record(rec).Rev())
		Expect(t, c.coll(s).Delete(bg, c.key(rec)), nil, "Delete")
		again := c.make(1, 1)
		Expect(t, c.coll(s).Create(bg, again), nil, "Create again")
		c.mutate(stale)
		Expect(t, c.coll(s).Update(bg, stale), storage.ErrConflict, "Update of a copy of the deleted record")
	})
	t.Run("ConcurrentUpdates", func(t *testing.T) {
		s := newStore(t)
		rec := c.make(1, 1)
		Expect(t, c.coll(s).Create(bg, rec), nil, "Create")
		copies := make([]*T, concurrentUpdates)
		for i := range copies {
			copies[i] = c.make(1, 1)
			record(copies[i]).SetRev(record(rec).Rev())
			c.mutate(copies[i])
		}
		errs := make([]error, concurrentUpdates)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = c.coll(s).Update(bg, copies[i])
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("updates %d and %d of one revision both succeeded", winner, i)
			case err == nil:
				winner = i
			default:
				Expect(t, err, storage.ErrConflict, "losing Update")
			}
		}
		if winner < 0 {
			t.Fatal("no concurrent Update succeeded")
		}
		got, err := c.coll(s).Get(bg, c.key(rec))
		Expect(t, err, nil, "Get")
		if !reflect.DeepEqual(got, copies[winner]) {
			t.Fatalf("stored record is not the winner's:\n got %#v\nwant %#v", got, copies[winner])
		}
	})
}
