package memory

import (
	"slices"
	"sort"
	"strings"
)

// chunkSize bounds a chunk of a keyIndex: an insert or removal moves at
// most this many keys, plus a chunk pointer when a chunk splits or empties.
const chunkSize = 512

// keyIndex is a sorted set of keys: a list of sorted chunks, each at most
// chunkSize keys, every key of a chunk below every key of the next. A seek
// is two binary searches; an insert or removal costs O(chunkSize) plus
// O(n/chunkSize) when a chunk splits or empties. The zero value is empty.
type keyIndex struct {
	chunks [][]string
	n      int
}

// find returns the chunk that holds key or would, and key's position in it.
func (x *keyIndex) find(key string) (ci, i int) {
	// The first chunk whose last key is >= key; the last chunk if none.
	ci = sort.Search(len(x.chunks), func(c int) bool {
		ch := x.chunks[c]
		return ch[len(ch)-1] >= key
	})
	if ci == len(x.chunks) {
		ci--
	}
	if ci < 0 {
		return 0, 0
	}
	i, _ = slices.BinarySearch(x.chunks[ci], key)
	return ci, i
}

// insert adds key; it reports whether key was new.
func (x *keyIndex) insert(key string) bool {
	if len(x.chunks) == 0 {
		x.chunks = [][]string{{key}}
		x.n = 1
		return true
	}
	ci, i := x.find(key)
	ch := x.chunks[ci]
	if i < len(ch) && ch[i] == key {
		return false
	}
	ch = slices.Insert(ch, i, key)
	if len(ch) > chunkSize {
		half := len(ch) / 2
		right := append([]string(nil), ch[half:]...)
		ch = ch[:half:half]
		x.chunks = slices.Insert(x.chunks, ci+1, right)
	}
	x.chunks[ci] = ch
	x.n++
	return true
}

// remove deletes key; it reports whether key was there.
func (x *keyIndex) remove(key string) bool {
	if len(x.chunks) == 0 {
		return false
	}
	ci, i := x.find(key)
	ch := x.chunks[ci]
	if i >= len(ch) || ch[i] != key {
		return false
	}
	ch = slices.Delete(ch, i, i+1)
	if len(ch) == 0 {
		x.chunks = slices.Delete(x.chunks, ci, ci+1)
	} else {
		x.chunks[ci] = ch
	}
	x.n--
	return true
}

// scan calls f with the keys that start with prefix and are above after
// ("" for none), in order, until f returns false. It reads only the keys it
// hands to f, and the one after them.
func (x *keyIndex) scan(prefix, after string, f func(string) bool) {
	from := prefix
	if after > from {
		from = after
	}
	if len(x.chunks) == 0 {
		return
	}
	ci, i := x.find(from)
	for ; ci < len(x.chunks); ci, i = ci+1, 0 {
		for _, k := range x.chunks[ci][i:] {
			if k == after {
				continue
			}
			if !strings.HasPrefix(k, prefix) || !f(k) {
				return
			}
		}
	}
}

// empty reports whether the index holds no key.
func (x *keyIndex) empty() bool { return x.n == 0 }
