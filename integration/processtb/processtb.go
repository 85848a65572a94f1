// Package processtb gives a TestMain the testing.TB that the test-server
// harnesses (internal/testserver, integration/mongoserver) take, so that a
// package can start one server for all its tests and runnable examples,
// which have no *testing.T of their own.
package processtb

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// TB is a testing.TB for the process: Cleanup registers functions Close
// runs, TempDir makes directories Close removes, and Fatal, Fatalf and
// Errorf report on stderr, Fatal and Fatalf then closing and exiting with
// status 1. It implements only what the harnesses call; any other method
// of testing.TB panics.
type TB struct {
	testing.TB

	mu       sync.Mutex
	cleanups []func()
	failed   bool
}

// New returns an empty TB.
func New() *TB { return &TB{} }

// Helper does nothing: there is no test to attribute lines to.
func (t *TB) Helper() {}

// Cleanup registers f for Close, which runs the functions last first.
func (t *TB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// TempDir returns a new directory that Close removes.
func (t *TB) TempDir() string {
	dir, err := os.MkdirTemp("", "scopekit-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// Logf writes to stderr.
func (t *TB) Logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

// Errorf writes to stderr and marks t failed.
func (t *TB) Errorf(format string, args ...any) {
	t.Logf(format, args...)
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
}

// Fatal writes args to stderr, closes t and exits with status 1.
func (t *TB) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, args...)
	t.Close()
	os.Exit(1)
}

// Fatalf writes to stderr, closes t and exits with status 1.
func (t *TB) Fatalf(format string, args ...any) {
	t.Logf(format, args...)
	t.Close()
	os.Exit(1)
}

// Failed reports whether Errorf was called.
func (t *TB) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

// Close runs the registered cleanups, last first, once each.
func (t *TB) Close() {
	for {
		t.mu.Lock()
		n := len(t.cleanups)
		if n == 0 {
			t.mu.Unlock()
			return
		}
		f := t.cleanups[n-1]
		t.cleanups = t.cleanups[:n-1]
		t.mu.Unlock()
		f()
	}
}

// Main starts the package's servers with start, runs m and exits with its
// status, or 1 when a cleanup reported an error.
func Main(m *testing.M, start func(t *TB)) {
	t := New()
	start(t)
	code := m.Run()
	t.Close()
	if code == 0 && t.Failed() {
		code = 1
	}
	os.Exit(code)
}
