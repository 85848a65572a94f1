//go:build !scopekit_testhooks

package mongo_test

import "testing"

// TestHooksBuildTag fails a run without the tag scopekit_testhooks, which
// would otherwise leave out the tests of hooks_test.go without a word.
func TestHooksBuildTag(t *testing.T) {
	t.Fatal("run these tests with -tags scopekit_testhooks (as scripts/test.sh does): hooks_test.go needs the store's test hooks")
}
