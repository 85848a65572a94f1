package bench

import (
	"testing"

	"github.com/scopekit/scopekit/bench/internal/peers"
)

// algs are the algorithms compared.
var algs = peers.Algs

// benchKey is one key in the forms each implementation wants.
type benchKey = peers.Key

var keyCache = map[string]*benchKey{}

// keyFor is the one key of alg every implementation of the run signs with.
func keyFor(tb testing.TB, alg string) *benchKey {
	if k, ok := keyCache[alg]; ok {
		return k
	}
	k, err := peers.NewKey(alg)
	if err != nil {
		tb.Fatal(err)
	}
	keyCache[alg] = k
	return k
}
