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
	h, banner, err := build("http://" + ln.Addr().String() + "/")
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintln(os.Stdout, banner)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}
