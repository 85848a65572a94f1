package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopekit/scopekit/storage/memory"
)

// TestQuickstartConfigErrorsSayWhere: a misspelt field is refused with its
// name, a syntax error with its line and column, an invalid record with
// the field the admin layer names.
func TestQuickstartConfigErrorsSayWhere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	for _, tc := range []struct{ doc, want string }{
		{`{"apis":[{"identifier":"https://a.example","scopez":[]}]}`, `unknown field "scopez"`},
		{"{\"apis\":[\n  {\"identifier\": \"https://a.example\",,}]}", "line 2, column 38"},
		{"{\"apis\":[\n{\"identifier\": 7}]}", "line 2, column 17"},
		{`{"apis":[{"identifier":"https://a.example","scopes":[{"name":"read users"}]}]}`, "scopes[0].name"},
	} {
		if err := os.WriteFile(path, []byte(tc.doc), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := readConfig(path)
		if err == nil {
			_, _, err = setup(t.Context(), "http://127.0.0.1/", memory.New(), cfg)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %s: err = %v, want it to say %q", tc.doc, err, tc.want)
		}
	}
}
