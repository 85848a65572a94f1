package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"
)

// runMainEnv makes the test binary run main instead of the tests, so that
// a test can start the program as a process of its own.
const runMainEnv = "SCOPEKIT_EMBED_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// region returns the lines strictly between the line holding start and the
// next line holding end.
func region(t *testing.T, name, text, start, end string) string {
	t.Helper()
	_, after, ok := strings.Cut(text, start+"\n")
	if !ok {
		t.Fatalf("%s: no %q marker", name, start)
	}
	body, _, ok := strings.Cut(after, end)
	if !ok {
		t.Fatalf("%s: no %q marker after %q", name, end, start)
	}
	return body[:strings.LastIndex(body, "\n")+1]
}

// TestReadmeMatchesProgram: the README's "Embed it" and "Storage" code is
// this program's marked regions, character for character, so the README
// shows code that compiles (and, for "Embed it", runs: TestEmbedServes).
func TestReadmeMatchesProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ marker, file string }{{"embed", "main.go"}, {"storage", "storage.go"}} {
		src, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		fence := region(t, "README.md", string(readme), "<!-- "+c.marker+":start -->", "<!-- "+c.marker+":end -->")
		code, ok := strings.CutPrefix(fence, "```go\n")
		if !ok || !strings.HasSuffix(code, "```\n") {
			t.Fatalf("README.md: the %s markers must hold one ```go fence, got:\n%s", c.marker, fence)
		}
		code = strings.TrimSuffix(code, "```\n")
		prog := strings.TrimRight(region(t, c.file, string(src), "// "+c.marker+":start", "// "+c.marker+":end"), "\n") + "\n"
		if code != prog {
			t.Errorf("README.md's %s snippet differs from examples/embed/%s's marked region\nREADME:\n%s\n%s:\n%s",
				c.marker, c.file, code, c.file, prog)
		}
	}
}

// TestOpenStoreMemory: the README's storage code gives the memory store
// without any server.
func TestOpenStoreMemory(t *testing.T) {
	store, err := openStore(context.Background(), "memory")
	if err != nil || store == nil {
		t.Fatalf("openStore(memory) = %v, %v", store, err)
	}
}

// TestEmbedServes runs the program on a free port: the client it prints
// gets a token at /oauth/token, and the protected route answers 200 with
// it and 401 without.
func TestEmbedServes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	listening := regexp.MustCompile(`listening on (http://\S+)/; client reporting, secret \(shown once\): (\S+)`)
	lines := bufio.NewScanner(stderr)
	var base, secret string
	for base == "" && lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			base, secret = m[1], m[2]
		}
	}
	if base == "" {
		t.Fatalf("the program stopped before listening: %v", lines.Err())
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()

	cc := clientcredentials.Config{ClientID: "reporting", ClientSecret: secret, TokenURL: base + "/oauth/token",
		EndpointParams: url.Values{"audience": {"https://users.example.com"}}}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		bearer string
		status int
		body   string
	}{{tok.AccessToken, http.StatusOK, "users, as seen by reporting\n"}, {"", http.StatusUnauthorized, ""}} {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/users", nil)
		if c.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+c.bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || (c.body != "" && string(body) != c.body) {
			t.Errorf("GET /users with bearer %t: %d %q, want %d %q", c.bearer != "", resp.StatusCode, body, c.status, c.body)
		}
	}
}
