package authz

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
