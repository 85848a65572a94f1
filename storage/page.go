package storage

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Page sizes of a listing (ListQuery.Limit).
const (
	// DefaultPageSize is the page size of a ListQuery whose Limit is zero.
	DefaultPageSize = 50
	// MaxPageSize is the largest page a listing returns; a larger Limit is
	// lowered to it.
	MaxPageSize = 1000
	// MaxKeyBytes bounds the length of a record key in bytes (a consent's
	// key joins three identifiers). A longer key is ErrInvalid on a write,
	// so that every key fits in a cursor.
	MaxKeyBytes = 2048
	// MaxCursorBytes bounds a cursor's length: the encoding of a key of
	// MaxKeyBytes.
	MaxCursorBytes = (MaxKeyBytes*8 + 5) / 6
	// MaxEmailBytes bounds an e-mail address that UsersByEmail looks up
	// (RFC 5321 §4.5.3.1: a 64-byte local part, "@", a 255-byte domain).
	// A user whose Email is longer, or not valid UTF-8, is not indexed by
	// e-mail.
	MaxEmailBytes = 320
	// MaxAll is the most records All returns before it gives up with
	// ErrTooMany.
	MaxAll = 10 * MaxPageSize
)

// ListQuery asks for one page of records in key order.
type ListQuery struct {
	// Prefix keeps the records whose key starts with it ("" for all).
	Prefix string
	// After is the cursor of the previous page (Page.Next); empty for the
	// first page. A cursor is opaque, and one a driver did not make is
	// ErrInvalid.
	After string
	// Limit is the page size: 0 means DefaultPageSize, above MaxPageSize
	// means MaxPageSize, below 0 is ErrInvalid.
	Limit int
}

// Page is one page of a listing, in key order.
type Page[T any] struct {
	// Items are the page's records, at most the query's Limit.
	Items []*T
	// Next is the cursor of the following page; empty when this page is the
	// last. A cursor names the last key of its page, so records inserted or
	// deleted between two pages neither repeat nor hide the others: the
	// next page starts after that key whatever happened before it.
	Next string
}

// Range is a parsed ListQuery, what a driver serves: the records whose key
// starts with Prefix and is greater than After ("" for none), at most
// Limit of them.
type Range struct {
	Prefix string
	After  string
	Limit  int
}

// Parse validates q and returns the range it asks for. The cursor must be
// one EncodeCursor made (ErrInvalid otherwise), and name a key inside the
// prefix, so that a cursor of one listing cannot page another.
func (q ListQuery) Parse() (Range, error) {
	r := Range{Prefix: q.Prefix, Limit: q.Limit}
	switch {
	case q.Limit < 0:
		return Range{}, fmt.Errorf("%w: negative page size", ErrInvalid)
	case q.Limit == 0:
		r.Limit = DefaultPageSize
	case q.Limit > MaxPageSize:
		r.Limit = MaxPageSize
	}
	if len(q.Prefix) > MaxKeyBytes {
		return Range{}, fmt.Errorf("%w: prefix too long", ErrInvalid)
	}
	if q.After != "" {
		k, err := DecodeCursor(q.After)
		if err != nil {
			return Range{}, err
		}
		if !strings.HasPrefix(k, q.Prefix) {
			return Range{}, fmt.Errorf("%w: cursor outside the prefix", ErrInvalid)
		}
		r.After = k
	}
	return r, nil
}

// cursorEncoding is unpadded base64url, decoded strictly so that every
// key has exactly one cursor.
var cursorEncoding = base64.RawURLEncoding.Strict()

// EncodeCursor is the cursor of a page ending at key.
func EncodeCursor(key string) string { return cursorEncoding.EncodeToString([]byte(key)) }

// DecodeCursor returns the key a cursor names; ErrInvalid when the cursor
// is longer than MaxCursorBytes, not canonical base64url or names no key.
func DecodeCursor(c string) (string, error) {
	if len(c) > MaxCursorBytes {
		return "", fmt.Errorf("%w: cursor too long", ErrInvalid)
	}
	b, err := cursorEncoding.DecodeString(c)
	// The decoder skips CR and LF even in strict mode: re-encoding keeps
	// one cursor per key.
	if err != nil || len(b) == 0 || cursorEncoding.EncodeToString(b) != c {
		return "", fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	return string(b), nil
}

// NewPage makes the page of a range from the records a driver read for it:
// up to r.Limit+1 records in key order, the one past the limit telling that
// another page follows.
func NewPage[T any, PT interface {
	*T
	Record
}](items []*T, r Range) Page[T] {
	if items == nil {
		items = []*T{}
	}
	if len(items) <= r.Limit {
		return Page[T]{Items: items}
	}
	items = items[:r.Limit]
	return Page[T]{Items: items, Next: EncodeCursor(PT(items[r.Limit-1]).Key())}
}

// PrefixEnd is the least string above every string that starts with
// prefix, for a half-open key range [prefix, PrefixEnd(prefix)); ok is
// false when there is none (prefix empty or all 0xff bytes), and the range
// is then unbounded above.
func PrefixEnd(prefix string) (end string, ok bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// EmailKey is the form of an e-mail address that UsersByEmail compares:
// lower-cased (Unicode simple case mapping), so that Jane@Example.COM
// finds jane@example.com, as the address's owner expects. It is empty for
// an address that is not looked up: empty, not valid UTF-8 or longer than
// MaxEmailBytes.
func EmailKey(email string) string {
	if email == "" || len(email) > MaxEmailBytes || !utf8.ValidString(email) {
		return ""
	}
	return strings.ToLower(email)
}

// Lookup validates the value a directory lookup is asked for (a group or
// role id, or an e-mail address already through EmailKey): ErrInvalid
// when empty or longer than MaxEmailBytes.
func Lookup(value string) error {
	if value == "" || len(value) > MaxEmailBytes {
		return fmt.Errorf("%w: lookup value empty or too long", ErrInvalid)
	}
	return nil
}

// UniqueIDs returns the distinct non-empty ids of ids in their first
// order, for indexing a record's groups or roles.
func UniqueIDs(ids []string) []string {
	var out []string
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// All reads every record whose key starts with prefix, page by page, for
// the few listings that need them all at once (the signing keys, a user's
// consents). It gives up with ErrTooMany past MaxAll records: such a
// listing is paged by its caller.
func All[T any](ctx context.Context, c Collection[T], prefix string) ([]*T, error) {
	var out []*T
	q := ListQuery{Prefix: prefix, Limit: MaxPageSize}
	for {
		p, err := c.List(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if len(out) > MaxAll {
			return nil, fmt.Errorf("%w: more than %d records under the prefix", ErrTooMany, MaxAll)
		}
		if p.Next == "" {
			if out == nil {
				out = []*T{}
			}
			return out, nil
		}
		q.After = p.Next
	}
}
