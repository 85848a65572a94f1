package memory

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestKeyIndexAgreesWithASortedSlice applies random inserts and removals to
// a keyIndex and to a plain set, and compares every scan.
func TestKeyIndexAgreesWithASortedSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var x keyIndex
	set := map[string]bool{}
	for step := 0; step < 20000; step++ {
		k := fmt.Sprintf("k%04d", rng.IntN(3000))
		if rng.IntN(3) == 0 {
			if x.remove(k) != set[k] {
				t.Fatalf("remove(%q) disagrees", k)
			}
			delete(set, k)
		} else {
			if x.insert(k) == set[k] {
				t.Fatalf("insert(%q) disagrees", k)
			}
			set[k] = true
		}
		if step%997 != 0 {
			continue
		}
		var want []string
		for k := range set {
			want = append(want, k)
		}
		sort.Strings(want)
		for _, q := range []struct{ prefix, after string }{{"", ""}, {"k1", ""}, {"k1", "k1500"}, {"", "k2999"}, {"k29", "k2950"}} {
			var got, exp []string
			x.scan(q.prefix, q.after, func(k string) bool { got = append(got, k); return true })
			for _, k := range want {
				if strings.HasPrefix(k, q.prefix) && k > q.after {
					exp = append(exp, k)
				}
			}
			if !slices.Equal(got, exp) {
				t.Fatalf("step %d scan(%q, %q): %d keys, want %d", step, q.prefix, q.after, len(got), len(exp))
			}
		}
		for _, ch := range x.chunks {
			if len(ch) == 0 || len(ch) > chunkSize {
				t.Fatalf("chunk of %d keys", len(ch))
			}
		}
	}
}
