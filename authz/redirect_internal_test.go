package authz

import "testing"

// TestMatchRedirectURILoopbackPorts: only a loopback IP registration matches
// another port, and only a valid 1-65535 port without a leading zero.
func TestMatchRedirectURILoopbackPorts(t *testing.T) {
	registered := []string{"http://127.0.0.1/cb", "http://[::1]:8080/cb", "https://a.example/cb", "javascript:alert(1)//"}
	for got, want := range map[string]bool{
		"http://127.0.0.1/cb":         true,
		"http://127.0.0.1:49152/cb":   true,
		"http://127.0.0.1:65535/cb":   true,
		"http://[::1]:1/cb":           true,
		"http://[::1]/cb":             true,
		"https://a.example/cb":        true,
		"http://127.0.0.1:0/cb":       false,
		"http://127.0.0.1:99999/cb":   false,
		"http://127.0.0.1:053121/cb":  false,
		"http://127.0.0.1:/cb":        false,
		"http://127.0.0.1:8080/cb#":   false,
		"http://u@127.0.0.1:8080/cb":  false,
		"http://localhost:8080/cb":    false,
		"http://127.0.0.2:8080/cb":    false,
		"http://127.0.0.1:8080/cb/":   false,
		"https://a.example:8443/cb":   false,
		"http://127.0.0.1:8080/cb?x=": false,
		"javascript:alert(1)//":       false,
	} {
		if _, ok := matchRedirectURI(registered, got); ok != want {
			t.Errorf("matchRedirectURI(%q) = %v, want %v", got, ok, want)
		}
	}
}
