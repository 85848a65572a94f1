package storage_test

import (
	"strings"
	"testing"

	"github.com/scopekit/scopekit/storage"
)

// TestValidID: identifiers are printable UTF-8 without KeySep, bounded; user
// ids never have the machine-subject form.
func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"app": true, "app\uFFFD": true, "é 1:/": true, strings.Repeat("a", storage.MaxIDBytes): true,
		"": false, "app\xff": false, "a\x00": false, "a\t": false, "a\u200b": false, "a\u202e": false,
		"a" + storage.KeySep + "b": false, strings.Repeat("a", storage.MaxIDBytes+1): false,
	} {
		if got := storage.ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
	if storage.ValidUserID(storage.MachineSubject("svc")) || !storage.ValidUserID("svc@example.com") || !storage.ValidID(storage.MachineSubject("svc")) {
		t.Error("user ids must be valid ids that never have the machine-subject form")
	}
}
