package authz

import "github.com/scopekit/scopekit/storage"

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// sameScopes reports whether a and b hold the same scopes in any order. It
// runs in time linear in len(a)+len(b).
func sameScopes(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	in := setOf(b)
	for _, s := range a {
		if _, ok := in[s]; !ok {
			return false
		}
	}
	return true
}

// setOf returns the set of the strings of list.
func setOf(list []string) map[string]struct{} {
	m := make(map[string]struct{}, len(list))
	for _, s := range list {
		m[s] = struct{}{}
	}
	return m
}

// Restrict returns the scopes of requested that allowed holds and the API
// defines, in request order, without duplicates. A nil requested (no "scope"
// parameter) asks for every scope allowed holds that the API defines. It runs
// in time linear in len(requested)+len(allowed) (plus the API's lookups).
func Restrict(requested, allowed []string, api *storage.API) []string {
	if requested == nil {
		requested = allowed
	}
	ok := setOf(allowed)
	out := make([]string, 0, min(len(requested), len(allowed)))
	for _, s := range requested {
		if _, in := ok[s]; in && api.HasScope(s) {
			delete(ok, s) // taken: a repeat is dropped
			out = append(out, s)
		}
	}
	return out
}
