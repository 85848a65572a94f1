package authz

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
	"github.com/scopekit/scopekit/token"
)

// interleaved is a store whose consent reads run a hook after reading, as
// if another request wrote between this request's read and its write.
type interleaved struct {
	storage.Store
	afterGet func()
}

func (s *interleaved) Consents() storage.Collection[storage.Consent] {
	return interleavedConsents{s.Store.Consents(), s}
}

type interleavedConsents struct {
	storage.Collection[storage.Consent]
	s *interleaved
}

func (c interleavedConsents) Get(ctx context.Context, key string) (*storage.Consent, error) {
	rec, err := c.Collection.Get(ctx, key)
	if hook := c.s.afterGet; hook != nil {
		c.s.afterGet = nil
		hook()
	}
	return rec, err
}

// refuseAll is a grant that issues nothing; the tests need a server, not
// its token endpoint.
type refuseAll struct{}

func (refuseAll) GrantType() string { return "client_credentials" }

func (refuseAll) Decide(context.Context, *Exchange) (*Decision, error) {
	return nil, oauth.ErrUnauthorizedClient
}

func newReviseServer(t *testing.T, store storage.Store) *Server {
	t.Helper()
	srv, err := New(t.Context(), Config{Issuer: "https://issuer.example.com/", Store: store, Grants: []Grant{refuseAll{}}})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

const consentAud = "https://bank.example.com"

func storedScopes(t *testing.T, store storage.Store) []string {
	t.Helper()
	c, err := store.Consents().Get(context.Background(), storage.JoinKey("alice", "app", consentAud))
	if err != nil {
		t.Fatal(err)
	}
	return c.Scopes
}

// A consent written between another consent's read and its write is kept:
// the second write is merged into the fresh record instead of replacing it.
func TestConsentWrittenInBetweenSurvives(t *testing.T) {
	for _, existing := range []bool{false, true} {
		t.Run(fmt.Sprint("existing=", existing), func(t *testing.T) {
			store := &interleaved{Store: memory.New()}
			srv := newReviseServer(t, store)
			req := httptest.NewRequest("POST", "/consent", nil)
			if existing {
				if err := srv.recordConsent(req, "alice", "app", consentAud, []string{"read:balance"}); err != nil {
					t.Fatal(err)
				}
			}
			store.afterGet = func() {
				if err := srv.recordConsent(req, "alice", "app", consentAud, []string{"transfer:funds"}); err != nil {
					t.Errorf("the consent in between: %v", err)
				}
			}
			if err := srv.recordConsent(req, "alice", "app", consentAud, []string{"read:profile"}); err != nil {
				t.Fatal(err)
			}
			got := storedScopes(t, store)
			for _, want := range []string{"transfer:funds", "read:profile"} {
				if !slices.Contains(got, want) {
					t.Fatalf("scope %s lost: stored %q", want, got)
				}
			}
		})
	}
}

// Concurrent consents for different scopes all survive. With at most
// maxRevise writers, each loses at most maxRevise-1 times, so none gives up.
func TestConcurrentConsentsAllSurvive(t *testing.T) {
	store := memory.New()
	srv := newReviseServer(t, store)
	var wg sync.WaitGroup
	errs := make([]error, maxRevise)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("POST", "/consent", nil)
			errs[i] = srv.recordConsent(req, "alice", "app", consentAud, []string{fmt.Sprint("scope:", i), oauth.ScopeOpenID})
		}()
	}
	wg.Wait()
	got := storedScopes(t, store)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("consent %d: %v", i, err)
		}
		if !slices.Contains(got, fmt.Sprint("scope:", i)) {
			t.Fatalf("consent %d lost: stored %q", i, got)
		}
	}
	if len(got) != maxRevise {
		t.Fatalf("stored %q, want %d scopes (openid is not stored)", got, maxRevise)
	}
}

// A copy of a client read before its secret was rotated cannot be written
// back: it would restore the old secret's hash.
func TestStaleClientCannotRestoreRotatedSecret(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	srv := newReviseServer(t, store)
	old, err := srv.CreateClient(ctx, &storage.Client{ID: "app", Name: "App", GrantTypes: []string{"client_credentials"}})
	if err != nil {
		t.Fatal(err)
	}
	stale, err := store.Clients().Get(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	secret, err := srv.RotateClientSecret(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	stale.Name = "Renamed"
	if err := store.Clients().Update(ctx, stale); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("Update of the stale copy: %v, want ErrConflict", err)
	}
	checkSecret(t, store, secret, old)
}

// RotateClientSecret racing with the write of a stale copy: whichever comes
// first, the stored secret is the rotated one.
func TestRotateSecretRacingStaleWrite(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	srv := newReviseServer(t, store)
	old, err := srv.CreateClient(ctx, &storage.Client{ID: "app", Name: "App", GrantTypes: []string{"client_credentials"}})
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 50; round++ {
		stale, err := store.Clients().Get(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		stale.Name = fmt.Sprint("Renamed ", round)
		var secret string
		var rotErr, staleErr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); secret, rotErr = srv.RotateClientSecret(ctx, "app") }()
		go func() { defer wg.Done(); staleErr = store.Clients().Update(ctx, stale) }()
		wg.Wait()
		if rotErr != nil {
			t.Fatal(rotErr)
		}
		if staleErr != nil && !errors.Is(staleErr, storage.ErrConflict) {
			t.Fatal(staleErr)
		}
		checkSecret(t, store, secret, old)
		old = secret
	}
}

// checkSecret fails unless the stored client "app" has the hash of secret
// and not that of old.
func checkSecret(t *testing.T, store storage.Store, secret, old string) {
	t.Helper()
	c, err := store.Clients().Get(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if string(c.SecretHash) == string(token.SecretHash(old)) {
		t.Fatal("the old secret's hash was restored")
	}
	if string(c.SecretHash) != string(token.SecretHash(secret)) {
		t.Fatal("the stored hash is not the rotated secret's")
	}
}

// A copy of a signing key read before it was retired cannot un-retire it.
func TestStaleKeyCannotUndoRetire(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	srv := newReviseServer(t, store)
	kid, err := srv.RotateKey(ctx, token.ES256)
	if err != nil {
		t.Fatal(err)
	}
	stale, err := store.Keys().Get(ctx, kid)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.RetireKey(ctx, kid); err != nil {
		t.Fatal(err)
	}
	if err := store.Keys().Update(ctx, stale); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("Update of the stale key: %v, want ErrConflict", err)
	}
	k, err := store.Keys().Get(ctx, kid)
	if err != nil {
		t.Fatal(err)
	}
	if k.RetiredAt.IsZero() {
		t.Fatal("the stale copy un-retired the key")
	}
}
