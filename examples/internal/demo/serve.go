package demo

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// Build assembles an example for its issuer URL and returns its handler and
// the text printed at start.
type Build func(issuer string) (h http.Handler, banner string, err error)

// ListenAndServe listens on addr, builds the example for the issuer URL of
// that address, prints its banner and serves.
func ListenAndServe(addr string, build Build) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	h, banner, err := build(baseURL(ln))
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintln(os.Stdout, banner)
	return serve(ln, h)
}

// baseURL is the http URL of a listener, with a trailing slash.
func baseURL(ln net.Listener) string { return "http://" + ln.Addr().String() + "/" }

// serve serves h on ln with the examples' server settings.
func serve(ln net.Listener, h http.Handler) error {
	return (&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
}

// BuildPair assembles an example whose client application runs on its own
// origin, as a third-party application does: it gets the issuer's URL and
// the app's, and returns a handler for each and the text printed at start.
type BuildPair func(issuer, app string) (issuerHandler, appHandler http.Handler, banner string, err error)

// ListenAndServePair listens on addr for the issuer and on appAddr for the
// client application (another port is another origin), builds the example
// for the two URLs, prints its banner and serves both.
func ListenAndServePair(addr, appAddr string, build BuildPair) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	appLn, err := net.Listen("tcp", appAddr)
	if err != nil {
		ln.Close()
		return err
	}
	ih, ah, banner, err := build(baseURL(ln), baseURL(appLn))
	if err != nil {
		ln.Close()
		appLn.Close()
		return err
	}
	fmt.Fprintln(os.Stdout, banner)
	errs := make(chan error, 2)
	go func() { errs <- serve(appLn, ah) }()
	go func() { errs <- serve(ln, ih) }()
	return <-errs
}
