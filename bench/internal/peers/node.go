package peers

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrNodeMissing is returned by StartNode when node or the installed
// oidc-provider package is absent.
var ErrNodeMissing = errors.New("node-oidc-provider is not installed")

// Node is node-oidc-provider running bench/node/server.mjs in a child
// process, configured with the fixture and one key.
type Node struct {
	// URL is its token endpoint.
	URL   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// NodeForm is the client-credentials request node-oidc-provider answers:
// it names the API with a resource indicator (RFC 8707 §2), not with
// "audience".
func NodeForm() url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {"read write"}, "resource": {APIID}}
}

// StartNode starts server.mjs of dir (bench/node, where `npm ci` has
// installed oidc-provider) signing with k, and waits until it listens.
func StartNode(dir string, k *Key) (*Node, error) {
	bin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: no node on PATH", ErrNodeMissing)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider")); err != nil {
		return nil, fmt.Errorf("%w: run `npm ci` in %s", ErrNodeMissing, dir)
	}
	jwk, err := k.Key.MarshalJWK()
	if err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(map[string]any{
		"issuer": IssuerURL, "alg": k.Alg, "jwk": json.RawMessage(jwk),
		"clientId": ClientID, "clientSecret": ClientSecret, "api": APIID, "scope": strings.Join(Scopes, " "),
		"lifetime": int(TokenLifetime.Seconds()), "gty": GrantTypeName, "subjectSuffix": SubjectSuffix,
	})
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "server.mjs")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &Node{cmd: cmd, stdin: stdin}
	if _, err := stdin.Write(append(cfg, '\n')); err != nil {
		n.Close()
		return nil, err
	}
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				port <- p
			}
		}
		close(port)
	}()
	select {
	case p, ok := <-port:
		if !ok {
			n.Close()
			return nil, errors.New("node-oidc-provider exited before listening")
		}
		n.URL = "http://127.0.0.1:" + p + "/oauth/token"
		return n, nil
	case <-time.After(30 * time.Second):
		n.Close()
		return nil, errors.New("node-oidc-provider did not listen within 30 s")
	}
}

// Close stops the server: closing its standard input ends it; a server
// that has not ended within five seconds is killed.
func (n *Node) Close() {
	_ = n.stdin.Close()
	done := make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = n.cmd.Process.Kill()
		<-done
	}
}
