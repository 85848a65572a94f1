package storage_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/storage"
)

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct {
		in, end string
		ok      bool
	}{{"a", "b", true}, {"a\xff", "b", true}, {"ab\xff\xff", "ac", true}, {"", "", false}, {"\xff\xff", "", false}} {
		end, ok := storage.PrefixEnd(tc.in)
		if end != tc.end || ok != tc.ok {
			t.Errorf("PrefixEnd(%q) = %q, %v; want %q, %v", tc.in, end, ok, tc.end, tc.ok)
		}
	}
}

func TestParseBoundsTheQuery(t *testing.T) {
	long := strings.Repeat("k", storage.MaxKeyBytes)
	r, err := storage.ListQuery{Prefix: "k", After: storage.EncodeCursor(long), Limit: 5}.Parse()
	if err != nil || r.After != long || r.Limit != 5 {
		t.Fatalf("a cursor of the longest key: %+v %v", r, err)
	}
	if len(storage.EncodeCursor(long)) > storage.MaxCursorBytes {
		t.Fatal("the cursor of the longest key is over MaxCursorBytes")
	}
	if storage.ValidKey(long + "k") {
		t.Fatal("a key over MaxKeyBytes is valid")
	}
	if _, err := (storage.ListQuery{Prefix: long + "k"}).Parse(); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("a prefix over MaxKeyBytes: %v", err)
	}
}

// FuzzDecodeCursor: every cursor either decodes to a key whose cursor it
// is (one cursor per key) or is ErrInvalid.
func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{"", "dTE", "dTF", "+/", "AA==", storage.EncodeCursor("u\x1fc")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		k, err := storage.DecodeCursor(c)
		if err != nil {
			if !errors.Is(err, storage.ErrInvalid) {
				t.Fatalf("DecodeCursor(%q): %v", c, err)
			}
			return
		}
		if storage.EncodeCursor(k) != c {
			t.Fatalf("cursor %q decodes to %q, whose cursor is %q", c, k, storage.EncodeCursor(k))
		}
	})
}
