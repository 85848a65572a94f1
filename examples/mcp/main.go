// Command mcp runs an MCP-style tool API protected by scopekit, and a client
// that finds its way to a token from nothing but a 401: the API's
// WWW-Authenticate names its protected resource metadata (RFC 9728 §5.1),
// the metadata names the authorization server, whose RFC 8414 metadata
// names the token endpoint; the client gets a token with client
// credentials and the RFC 8707 resource parameter, and calls the tool.
//
//	go run ./mcp                    # runs the walk-through once and exits
//	go run ./mcp -serve -addr 127.0.0.1:8080
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback: the issuer runs over plain http)")
	serve := flag.Bool("serve", false, "keep serving after the walk-through")
	flag.Parse()
	if err := run(*addr, *serve, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(addr string, serve bool, out io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	app, err := newApp(context.Background(), base)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: app.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()

	c := &Client{HTTP: http.DefaultClient, ClientID: agentID, ClientSecret: app.secret, Log: out}
	res, err := c.CallTool(context.Background(), app.mcpURL, "add", map[string]any{"a": 2, "b": 3})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "tool result: %s\n", res)
	if !serve {
		return nil
	}
	fmt.Fprintf(out, "serving %s (client %s, secret %s)\n", app.mcpURL, agentID, app.secret)
	select {}
}
