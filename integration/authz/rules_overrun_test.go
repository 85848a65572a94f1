package authz_test

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
)

// recordingHandler keeps the log records of a server.
type recordingHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}

// errorFor reports whether an Error record names the rule.
func (h *recordingHandler) errorFor(rule string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.records {
		if r.Level != slog.LevelError {
			continue
		}
		found := false
		r.Attrs(func(a slog.Attr) bool {
			found = found || (a.Key == "rule" && a.Value.String() == rule)
			return !found
		})
		if found {
			return true
		}
	}
	return false
}

// TestOverrunningRulesAreCapped runs a rule that ignores its ctx and blocks:
// once MaxOverrunningRules of its goroutines are stuck, issuances fail with
// server_error without starting another, and capacity comes back when the
// stuck rules return.
func TestOverrunningRulesAreCapped(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	var started atomic.Int32
	stuck := rule("stuck", func(_ context.Context, tx *authz.Transaction) error {
		started.Add(1)
		<-release // ignores ctx
		return nil
	})
	logs := &recordingHandler{}
	const max = 3
	f, secret := newRulesFixture(t, func(c *authz.Config) {
		c.RuleTimeout = 20 * time.Millisecond
		c.MaxOverrunningRules = max
		c.Logger = slog.New(logs)
	}, stuck)
	issue := func() (int, map[string]any) {
		resp, body := postForm(t, f.ts.URL+"/oauth/token", ccForm(bankUserAPI, ""), basic("reporter", secret))
		return resp.StatusCode, body
	}
	for i := 0; i < max; i++ {
		if code, body := issue(); code != 500 || body["error"] != "server_error" || body["access_token"] != nil {
			t.Fatalf("overrun %d: %d %v", i, code, body)
		}
	}
	if n := started.Load(); n != max {
		t.Fatalf("%d rule runs, want %d", n, max)
	}
	for i := 0; i < 10; i++ {
		if code, body := issue(); code != 500 || body["error"] != "server_error" || body["access_token"] != nil {
			t.Fatalf("beyond the cap: %d %v", code, body)
		}
	}
	if n := started.Load(); n != max {
		t.Fatalf("%d rule goroutines started with the cap at %d", n, max)
	}
	if !logs.errorFor("stuck") {
		t.Fatal("no Error log naming the rule")
	}

	unblock()
	// The stuck goroutines return on their own schedule: wait for the
	// capacity to come back, which it must.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := issue()
		if code == 200 && body["access_token"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("capacity never came back: %d %v", code, body)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := started.Load(); n != max+1 {
		t.Fatalf("%d rule runs, want %d", n, max+1)
	}
}

// TestRulesWithNonJSONMetadata signs in users whose metadata, set through
// the Go API, is not JSON: the issuance fails with server_error, nothing is
// issued, and nothing panics.
func TestRulesWithNonJSONMetadata(t *testing.T) {
	ran := false
	f, _ := newRulesFixture(t, nil, rule("reads-metadata", func(context.Context, *authz.Transaction) error {
		ran = true
		return nil
	}))
	ctx := context.Background()
	for name, v := range map[string]any{"func": func() {}, "chan": make(chan int), "nan": math.NaN()} {
		t.Run(name, func(t *testing.T) {
			id := "odd-" + name
			must(t, f.store.Users().Create(ctx, &storage.User{ID: id, Email: id + "@example.com", Roles: []string{"organizer"},
				UserMetadata: map[string]any{"value": v}}))
			b := f.browser(t)
			b.login(f, id)
			cfg := f.oauth("bank-app")
			cfg.Scopes = []string{"read:balance"}
			cb := f.authorize(t, b, cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("audience", bankUserAPI)), id, "read:balance")
			if cb.Query().Get("error") != "server_error" || cb.Query().Get("code") != "" {
				t.Fatalf("%v", cb)
			}
		})
	}
	if ran {
		t.Fatal("a rule ran on a record it could not be given a copy of")
	}
}
