package replicas_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz/resource"
)

// keyLifecycle rotates the signing key at one replica, retires the old key
// at another and then removes a key in an emergency, while a stream of
// tokens minted at every replica is verified at every other replica and by
// a remote API over replica 0's JWKS (docs/KEYS.md, "Keys across
// replicas"). Neither the rotation nor the retirement fails a single
// verification; the removed key's tokens are refused at every replica
// within Config.KeyReloadInterval, and the time it took is logged.
func keyLifecycle(t *testing.T, e *env, transport string) {
	ctx := context.Background()
	rm := newRemote(t, e.urls[0])
	first := e.clientToken(e.urls[0])
	oldKid := kidOf(first.str("access_token"))
	if _, err := rm.verify(ctx, first.str("access_token")); err != nil {
		t.Fatalf("the remote API refuses a token before any rotation: %v", err)
	}
	s := startStream(e, rm)
	defer s.stop()
	s.await(t, "the stream to start", 10*time.Second, func() bool { return s.rounds >= 2*replicas })

	newKid := control(t, e.urls[1], "rotate", "")
	// The remote API refetches the JWKS at most once a minute; the test's
	// publish delay compresses that minute: once replica 0 publishes the new
	// key, the remote's clock moves a refetch interval ahead, so its next
	// lookup refetches (the order docs/KEYS.md's delay is chosen for).
	awaitJWKS(t, e.urls[0], newKid, true, keyReloadInterval+5*time.Second)
	rm.offset.Store(int64(61 * time.Second))
	s.await(t, "every replica to sign with the rotated key", keyPublishDelay+10*time.Second, func() bool {
		for i := range replicas {
			if !s.minted[i][newKid] {
				return false
			}
		}
		return true
	})

	control(t, e.urls[2], "retire", oldKid)
	retired := time.Now()
	s.await(t, "a cycle of tokens after the retirement reached every replica", keyReloadInterval+10*time.Second, func() bool {
		return s.roundsAfter(retired.Add(keyReloadInterval)) >= replicas
	})
	s.stop()
	if len(s.failures) > 0 {
		t.Fatalf("%d of %d verifications failed across the rotation and the retirement, first: %s", len(s.failures), s.verified, s.failures[0])
	}
	for _, tok := range s.sample[oldKid] {
		for j, at := range e.urls {
			if callAPI(at, tok) != 200 || !e.introspect(at, tok) {
				t.Fatalf("a token of the retired key is refused at replica %d", j)
			}
		}
	}
	t.Logf("%d tokens minted, %d verifications (replicas and remote API), none failed; kids %s then %s", s.rounds, s.verified, oldKid, newKid)

	// Emergency removal of the key that signs now: rotate, then remove.
	victim := s.sample[newKid][len(s.sample[newKid])-1]
	next := control(t, e.urls[0], "rotate", "")
	start := time.Now()
	control(t, e.urls[0], "remove", newKid)
	removed := time.Now()
	took := make([]time.Duration, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for j, at := range e.urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			took[j], errs[j] = refusedBy(at, victim, start, removed)
		}()
	}
	wg.Wait()
	for j, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", j, err)
		}
	}
	t.Logf("over %s: a key removed at replica 0 was refused at every replica %v after the RemoveKey request (max; per replica %v); bound %v",
		transport, slices.Max(took).Round(time.Millisecond), took, keyReloadInterval)
	awaitJWKS(t, e.urls[0], newKid, false, keyReloadInterval+5*time.Second)
	for i, at := range e.urls {
		tok := e.clientToken(at).str("access_token")
		if k := kidOf(tok); k == newKid || k == "" {
			t.Fatalf("replica %d signs with %q after the removal of %s (rotated: %s)", i, k, newKid, next)
		}
		for j, other := range e.urls {
			if callAPI(other, tok) != 200 {
				t.Fatalf("a token of replica %d after the removal does not verify at replica %d", i, j)
			}
		}
	}
}

// refusedBy presents tok at a replica until it is refused (401) and
// returns how long after start that was. A token accepted in a request
// sent later than the bound after removed is an error, as is any answer
// but 200 or 401.
func refusedBy(at, tok string, start, removed time.Time) (time.Duration, error) {
	for round := 0; round < 100000; round++ {
		sent := time.Now()
		switch status := callAPI(at, tok); status {
		case 401:
			return time.Since(start), nil
		case 200:
			if sent.After(removed.Add(keyReloadInterval)) {
				return 0, fmt.Errorf("a token of the removed key is accepted %v after the removal", sent.Sub(removed))
			}
		default:
			return 0, fmt.Errorf("a token of the removed key answered %d", status)
		}
	}
	return 0, fmt.Errorf("a token of the removed key is still accepted")
}

// control calls a replica's key endpoint (keycontrol_test.go).
func control(t *testing.T, at, op, kid string) string {
	t.Helper()
	resp, err := httpClient.Post(at+"/test/keys/"+op+"?kid="+url.QueryEscape(kid), "text/plain", nil)
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", op, kid, resp.StatusCode, b)
	}
	return string(b)
}

// kidOf returns the kid of a compact JWS's header.
func kidOf(tok string) string {
	head, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(b, &h)
	return h.Kid
}

// jwksHas reports whether a replica's JWKS lists kid.
func jwksHas(at, kid string) bool {
	resp, err := httpClient.Get(at + "/.well-known/jwks.json")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if json.NewDecoder(resp.Body).Decode(&set) != nil {
		return false
	}
	return slices.ContainsFunc(set.Keys, func(k struct {
		Kid string `json:"kid"`
	}) bool {
		return k.Kid == kid
	})
}

// awaitJWKS waits until a replica's JWKS lists kid (or no longer does).
func awaitJWKS(t *testing.T, at, kid string, want bool, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for jwksHas(at, kid) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s's JWKS listing %s is not %v within %v", at, kid, want, within)
		}
		time.Sleep(20 * time.Millisecond) // polling an HTTP answer: nothing to await
	}
}

// remote is a remote API (resource.NewRemote) of the replicas' issuer,
// reached at one replica, with a clock the test can move ahead.
type remote struct {
	authz  *resource.Authorizer
	offset atomic.Int64
}

func (r *remote) verify(ctx context.Context, tok string) (*resource.Principal, error) {
	return r.authz.Authorize(ctx, tok, resource.Requirement{AllOf: []string{"read"}})
}

// toReplica sends the issuer's https URLs to a replica's loopback address.
type toReplica struct{ host string }

func (t toReplica) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = "http", t.host
	return http.DefaultTransport.RoundTrip(r)
}

func newRemote(t *testing.T, at string) *remote {
	t.Helper()
	u, err := url.Parse(at)
	must(t, err)
	r := &remote{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.authz, err = resource.NewRemote(ctx, resource.RemoteConfig{Issuer: issuer, Audience: api,
		HTTPClient: &http.Client{Timeout: 5 * time.Second, Transport: toReplica{u.Host}},
		Now:        func() time.Time { return time.Now().Add(time.Duration(r.offset.Load())) }})
	must(t, err)
	return r
}

// stream mints a token at replica round%replicas, round after round, and
// verifies it at every other replica and at the remote API, until stopped
// (or at most streamRounds rounds, streamTime long).
type stream struct {
	mu       sync.Mutex
	rounds   int
	verified int
	failures []string
	minted   [replicas]map[string]bool // kids each replica signed with
	sample   map[string][]string       // a few tokens of each kid
	started  []time.Time               // each round's start
	progress chan struct{}
	quit     chan struct{}
	done     chan struct{}
	once     sync.Once
}

const (
	streamRounds = 20000
	streamTime   = 60 * time.Second
)

func startStream(e *env, rm *remote) *stream {
	s := &stream{sample: map[string][]string{}, progress: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	for i := range s.minted {
		s.minted[i] = map[string]bool{}
	}
	go func() {
		defer close(s.done)
		end := time.Now().Add(streamTime)
		for round := 0; round < streamRounds && time.Now().Before(end); round++ {
			select {
			case <-s.quit:
				return
			default:
			}
			s.round(e, rm, round%replicas)
			select {
			case s.progress <- struct{}{}:
			default:
			}
		}
	}()
	return s
}

// round mints at replica i and verifies everywhere else.
func (s *stream) round(e *env, rm *remote, i int) {
	began := time.Now()
	var failures []string
	a := e.clientToken(e.urls[i])
	tok := a.str("access_token")
	kid := kidOf(tok)
	verified := 0
	if a.status != 200 {
		failures = append(failures, fmt.Sprintf("minting at replica %d: %d %v %v", i, a.status, a.body, a.err))
	} else {
		for j, at := range e.urls {
			if j == i {
				continue
			}
			verified++
			if st := callAPI(at, tok); st != 200 {
				failures = append(failures, fmt.Sprintf("a token of replica %d (kid %s) answered %d at replica %d", i, kid, st, j))
			}
		}
		verified++
		if _, err := rm.verify(context.Background(), tok); err != nil {
			failures = append(failures, fmt.Sprintf("a token of replica %d (kid %s) refused by the remote API: %v", i, kid, err))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rounds++
	s.verified += verified
	s.failures = append(s.failures, failures...)
	s.started = append(s.started, began)
	if kid != "" {
		s.minted[i][kid] = true
		if len(s.sample[kid]) < 2*replicas {
			s.sample[kid] = append(s.sample[kid], tok)
		}
	}
}

// roundsAfter counts the finished rounds that began after at; mu held.
func (s *stream) roundsAfter(at time.Time) int {
	n := 0
	for _, b := range s.started {
		if b.After(at) {
			n++
		}
	}
	return n
}

// await waits, round by round, until cond (called with mu held) holds.
func (s *stream) await(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	timeout := time.After(within)
	for {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-s.progress:
		case <-s.done:
			t.Fatalf("the stream ended before %s", what)
		case <-timeout:
			t.Fatalf("waited %v for %s", within, what)
		}
	}
}

// stop ends the stream and waits for its last round.
func (s *stream) stop() {
	s.once.Do(func() { close(s.quit) })
	<-s.done
}
