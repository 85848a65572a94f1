package mongo

import (
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/scopekit/scopekit/storage"
)

// Nested documents and arrays inside map[string]any fields decode as
// primitive.D, primitive.M and primitive.A; normalize turns them back into
// the map[string]any and []any that the store was given.

func normalize(v any) any {
	switch x := v.(type) {
	case primitive.D:
		m := make(map[string]any, len(x))
		for _, e := range x {
			m[e.Key] = normalize(e.Value)
		}
		return m
	case primitive.M:
		return normalizeMap(map[string]any(x))
	case map[string]any:
		return normalizeMap(x)
	case primitive.A:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

func normalizeMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = normalize(v)
	}
	return out
}

// fix restores the Go types of the records' free-form maps after decoding.
func fix(rec any) {
	switch r := rec.(type) {
	case *storage.User:
		r.UserMetadata = normalizeMap(r.UserMetadata)
		r.AppMetadata = normalizeMap(r.AppMetadata)
	case *storage.AuthCode:
		r.IDTokenClaims = normalizeMap(r.IDTokenClaims)
		r.AccessTokenClaims = normalizeMap(r.AccessTokenClaims)
	case *storage.Family:
		r.Claims = normalizeMap(r.Claims)
	}
}
