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
	api := `{"apis":[{"identifier":"https://a.example","scopes":[{"name":"r"}]}],`
	for _, tc := range []struct{ doc, want string }{
		{`{"apis":[{"identifier":"https://a.example","scopez":[]}]}`, `unknown field "apis[0].scopez"`},
		{"{\"apis\":[\n  {\"identifier\": \"https://a.example\",,}]}", "line 2, column 38"},
		{"{\"apis\":[\n{\"identifier\": 7}]}", "line 2, column 17"},
		{`{"apis":[{"identifier":"https://a.example","scopes":[{"name":"read users"}]}]}`, "scopes[0].name"},
		{`{"apis":[{"identifier":"https://a.example"}],"clients":[{"client_id":"c","grant_typez":[]}]}`, `unknown field "clients[0].grant_typez"`},
		{`{"apis":[{"identifier":"https://a.example","scopes":[{"name":"r"},{"name":"w","descriptoin":"x"}]}]}`, `unknown field "apis[0].scopes[1].descriptoin"`},
		{api + `"client_grants":[{"client_id":"ghost","audience":"https://a.example","scope":["r"]}]}`, `no client has the id "ghost"`},
		{api + `"clients":[{"client_id":"c"}],"client_grants":[{"client_id":"c","audience":"https://b.example","scope":["r"]}]}`, `no API has the identifier "https://b.example"`},
		{api + `"clients":[{"client_id":"c"}],"client_grants":[{"client_id":"c","audience":"https://a.example","scope":["w"]}]}`, `scope[0]`},
		{api + `"clients":[{"client_id":"c","client_secret":"at-least-32-characters-of-random-data"}]}`, "README's placeholder"},
		{api + `"clients":[{"client_id":"c","client_secret":"` + strings.Repeat("ab", 20) + `"}]}`, "distinct characters"},
		{api + `"clients":[{"client_id":"c","client_secret":"` + "1234567890123456789012345678901234" + `"}]}`, "bits"},
		{api + `"clients":[{"client_id":"c","client_secret":"short"}]}`, "at least 32 characters"},
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

// TestCheckSecretAcceptsGenerated: what the README tells people to run
// passes, so the check refuses weak secrets, not every secret.
func TestCheckSecretAcceptsGenerated(t *testing.T) {
	for _, s := range []string{
		"q0Yb7m3Hk9Zr2Vw5Xn8Lc1Tf4Js6Pd0G",             // 32 alphanumerics, ~190 bits
		"8d3f9c2a7b41e6f05c9a8d7e6b3f2a1c",             // 32 hex digits: lowercase+digits, ~165 bits
		"p1J6kE+0bN2hX/TzFv3yQm9aLc4Ws8Rd5Ug7Io1Ye2A=", // openssl rand -base64 32
	} {
		if err := checkSecret(s); err != nil {
			t.Errorf("checkSecret(%q) = %v", s, err)
		}
	}
}

// TestStoreSpecs: the cluster form becomes go-redis's cluster URL, and
// malformed store values are refused before anything is opened.
func TestStoreSpecs(t *testing.T) {
	got, err := clusterURL("redis+cluster://:pw@h1:7000,h2:7001,h3:7002?dial_timeout=3")
	if want := "redis://:pw@h1:7000?addr=h2%3A7001&addr=h3%3A7002&dial_timeout=3"; err != nil || got != want {
		t.Fatalf("clusterURL = %q, %v; want %q", got, err, want)
	}
	if got, _ := clusterURL("rediss+cluster://h1:7000"); got != "rediss://h1:7000" {
		t.Fatalf("TLS cluster URL = %q", got)
	}
	for _, bad := range []string{"memoryy", "postgres://x/y", "redis+cluster://", "redis+cluster://h1:1,,h2:2",
		"redis+cluster://h1:1/0", "redis://h:1/notanumber", "mongodb://127.0.0.1:1", "mongodb://"} {
		if _, _, err := openStore(t.Context(), bad); err == nil {
			t.Errorf("-store %q accepted", bad)
		}
	}
	if st, closeFn, err := openStore(t.Context(), "memory"); err != nil || st == nil {
		t.Fatalf("memory: %v", err)
	} else {
		closeFn()
	}
}

// TestOptionsFromEnvironment: every setting has its variable, and a flag
// wins over it.
func TestOptionsFromEnvironment(t *testing.T) {
	env := map[string]string{"SCOPEKIT_ADDR": "127.0.0.1:9000", "SCOPEKIT_ISSUER": "https://auth.example.com/",
		"SCOPEKIT_STORE": "redis://r:6379/0", "SCOPEKIT_CONFIG": "/etc/qs.json"}
	o, err := parseOptions(nil, func(k string) string { return env[k] })
	if err != nil || *o != (settings{"127.0.0.1:9000", "https://auth.example.com/", "redis://r:6379/0", "/etc/qs.json"}) {
		t.Fatalf("from the environment: %+v %v", o, err)
	}
	o, err = parseOptions([]string{"-addr", ":1", "-store", "memory", "-config", "x.json", "-issuer", "https://b.example/"},
		func(k string) string { return env[k] })
	if err != nil || *o != (settings{":1", "https://b.example/", "memory", "x.json"}) {
		t.Fatalf("flags over the environment: %+v %v", o, err)
	}
	o, err = parseOptions(nil, func(string) string { return "" })
	if err != nil || *o != (settings{"127.0.0.1:8080", "", "memory", ""}) {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	if _, err := parseOptions([]string{"stray"}, func(string) string { return "" }); err == nil {
		t.Fatal("a stray argument accepted")
	}
}
