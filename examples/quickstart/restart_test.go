package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/scopekit/scopekit/internal/testserver"
)

// process is a running quickstart binary; its stdout arrives line by line.
type process struct {
	cmd    *exec.Cmd
	lines  chan string
	mu     sync.Mutex
	output strings.Builder // stdout and stderr, everything so far
}

func startBinary(t *testing.T, bin string, env []string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), lines: make(chan string, 100)}
	p.cmd.Env = append(os.Environ(), env...)
	stdout, err := p.cmd.StdoutPipe()
	must(t, err)
	stderr, err := p.cmd.StderrPipe()
	must(t, err)
	must(t, p.cmd.Start())
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.record(sc.Text())
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.record(sc.Text())
		}
	}()
	return p
}

func (p *process) record(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.output.WriteString(line + "\n")
}

// waitLine returns the first stdout line with the prefix.
func (p *process) waitLine(t *testing.T, prefix string) string {
	t.Helper()
	for l := range p.lines {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("the quickstart exited without printing %q; its output:\n%s", prefix, p.all())
	return ""
}

func (p *process) all() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// TestQuickstartRestartOverRedis runs the built quickstart over a real
// redis-server: SIGTERM during a token request lets it finish and exits 0;
// restarted over the same Redis, the client and its secret are kept (and
// not printed again) and the first token still verifies, the signing keys
// being the stored ones.
func TestQuickstartRestartOverRedis(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "quickstart")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rds := testserver.StartRedis(t)
	addr := "127.0.0.1:" + strconv.Itoa(testserver.FreePort(t))
	env := []string{"SCOPEKIT_STORE=redis://" + rds.Addr + "/0", "SCOPEKIT_ADDR=127.0.0.1:1"} // the flag wins over the env
	base := "http://" + addr

	first := startBinary(t, bin, env, "-addr", addr)
	first.waitLine(t, "client:   reporting-service")
	secret := strings.TrimPrefix(first.waitLine(t, "secret:   "), "secret:   ")
	if len(secret) < minSecretLen {
		t.Fatalf("printed secret %q", secret)
	}

	// A token request held open inside the handler: with Expect:
	// 100-continue the server asks for the body only when the handler
	// reads it.
	conn, err := net.Dial("tcp", addr)
	must(t, err)
	defer conn.Close()
	body := url.Values{"grant_type": {"client_credentials"}, "audience": {"https://users.example.com"}}.Encode()
	basic := base64.StdEncoding.EncodeToString([]byte("reporting-service:" + secret))
	_, err = io.WriteString(conn, "POST /oauth/token HTTP/1.1\r\nHost: "+addr+"\r\nAuthorization: Basic "+basic+
		"\r\nContent-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n")
	must(t, err)
	br := bufio.NewReader(conn)
	if status, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(status, "HTTP/1.1 100") {
		t.Fatalf("no 100 Continue: %q %v", status, err)
	}
	_, _ = br.ReadString('\n') // the blank line ending the interim response

	must(t, first.cmd.Process.Signal(syscall.SIGTERM))
	first.waitLine(t, "shutting down:") // printed once the listener is closed
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("a new connection is accepted during shutdown")
	}
	_, err = io.WriteString(conn, body)
	must(t, err)
	resp, err := http.ReadResponse(br, nil)
	must(t, err)
	tokenJSON, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(tokenJSON), `"access_token"`) {
		t.Fatalf("the in-flight request: %d %s", resp.StatusCode, tokenJSON)
	}
	if err := first.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, first.all())
	}
	oldToken := regexp.MustCompile(`"access_token":"([^"]+)"`).FindStringSubmatch(string(tokenJSON))[1]

	second := startBinary(t, bin, env, "-addr", addr)
	second.waitLine(t, "client:   reporting-service (kept from the store")
	if got := call(t, "GET", base+"/users", oldToken); got.StatusCode != 200 {
		t.Fatalf("the token issued before the restart: GET /users %d", got.StatusCode)
	}
	cc := clientcredentials.Config{ClientID: "reporting-service", ClientSecret: secret, TokenURL: base + "/oauth/token",
		EndpointParams: url.Values{"audience": {"https://users.example.com"}}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("the secret from before the restart: %v", err)
	}
	if got := call(t, "GET", base+"/users", tok.AccessToken); got.StatusCode != 200 {
		t.Fatalf("a new token: GET /users %d", got.StatusCode)
	}
	must(t, second.cmd.Process.Signal(syscall.SIGINT))
	for range second.lines { // until stdout closes
	}
	if err := second.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGINT: %v", err)
	}
	if out := second.all(); strings.Contains(out, secret) || strings.Contains(out, "secret:   ") {
		t.Fatalf("the restart printed a secret:\n%s", out)
	}
}
