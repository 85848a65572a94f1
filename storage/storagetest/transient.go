package storagetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
)

func testResolve(t *testing.T, newStore NewStore) {
	s := newStore(t)
	client := &storage.Client{ID: "svc", Name: "svc", SecretHash: []byte{9}, GrantTypes: []string{"client_credentials"}}
	api := &storage.API{Identifier: "https://api", Name: "api", Scopes: []storage.Scope{{Name: "read"}}}
	grant := &storage.ClientGrant{ClientID: "svc", Audience: "https://api", Scopes: []string{"read"}}
	Expect(t, s.Clients().Create(bg, client), nil, "client")
	Expect(t, s.APIs().Create(bg, api), nil, "api")
	Expect(t, s.APIs().Create(bg, &storage.API{Identifier: "https://other", Name: "other"}), nil, "other api")
	Expect(t, s.ClientGrants().Create(bg, grant), nil, "grant")
	cases := []struct {
		name, client, aud       string
		wantC, wantA, wantGrant bool
	}{
		{"all present", "svc", "https://api", true, true, true},
		{"client missing", "ghost", "https://api", false, true, false},
		{"api missing", "svc", "https://nope", true, false, false},
		{"grant missing", "svc", "https://other", true, true, false},
		{"no audience", "svc", "", true, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Resolve(bg, tc.client, tc.aud)
			Expect(t, err, nil, "Resolve")
			if (res.Client != nil) != tc.wantC || (res.API != nil) != tc.wantA || (res.Grant != nil) != tc.wantGrant {
				t.Fatalf("client %v api %v grant %v", res.Client != nil, res.API != nil, res.Grant != nil)
			}
			if tc.wantC && !reflect.DeepEqual(res.Client, client) || tc.wantA && res.API.Identifier != tc.aud ||
				tc.aud == api.Identifier && tc.wantA && !reflect.DeepEqual(res.API, api) ||
				tc.wantGrant && !reflect.DeepEqual(res.Grant, grant) {
				t.Fatalf("records differ: %+v", res)
			}
		})
	}
}

func authRequest(id string, exp time.Time) *storage.AuthRequest {
	return &storage.AuthRequest{ID: id, ClientID: "app", RedirectURI: "https://app/cb", ResponseType: "code",
		ResponseMode: "query", Scopes: []string{"openid", "read"}, Audience: "https://api", State: "s t&=ü",
		Nonce: "n", CodeChallenge: "c", CodeChallengeMethod: "S256", Prompt: []string{"login"}, MaxAge: 60,
		CSRF: "x", Extra: map[string]string{"ui_locales": "fr"}, CreatedAt: epoch, ExpiresAt: ms(exp)}
}

func testAuthRequests(t *testing.T, newStore NewStore) {
	t.Run("RoundTripAndTake", func(t *testing.T) {
		s := newStore(t)
		r := authRequest("r1", time.Now().Add(time.Minute))
		Expect(t, s.CreateAuthRequest(bg, r), nil, "Create")
		Expect(t, s.CreateAuthRequest(bg, r), storage.ErrDuplicate, "Create twice")
		got, err := s.GetAuthRequest(bg, "r1")
		Expect(t, err, nil, "Get")
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("got %#v want %#v", got, r)
		}
		got, err = s.TakeAuthRequest(bg, "r1")
		Expect(t, err, nil, "Take")
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("Take got %#v", got)
		}
		_, err = s.TakeAuthRequest(bg, "r1")
		Expect(t, err, storage.ErrNotFound, "Take twice")
		_, err = s.GetAuthRequest(bg, "r1")
		Expect(t, err, storage.ErrNotFound, "Get after Take")
	})
	t.Run("Expiry", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		exp := clk.Now().Add(time.Minute)
		Expect(t, s.CreateAuthRequest(bg, authRequest("r2", exp)), nil, "Create")
		clk.Advance(time.Minute - time.Millisecond)
		_, err := s.GetAuthRequest(bg, "r2")
		Expect(t, err, nil, "Get just before the expiry on the store's clock")
		clk.Advance(time.Millisecond)
		_, err = s.GetAuthRequest(bg, "r2")
		Expect(t, err, storage.ErrNotFound, "Get expired")
		_, err = s.TakeAuthRequest(bg, "r2")
		Expect(t, err, storage.ErrNotFound, "Take expired")
	})
	t.Run("Invalid", func(t *testing.T) {
		s := newStore(t)
		Expect(t, s.CreateAuthRequest(bg, authRequest("", time.Now().Add(time.Minute))), storage.ErrInvalid, "empty id")
		Expect(t, s.CreateAuthRequest(bg, &storage.AuthRequest{ID: "r3"}), storage.ErrInvalid, "no expiry")
	})
}

func code(hash string, exp time.Time) *storage.AuthCode {
	return &storage.AuthCode{Hash: hash, ClientID: "app", RedirectURI: "https://app/cb", Subject: "u1",
		Audience: "https://api", RequestedScopes: []string{"openid", "read", "write"}, Scopes: []string{"openid", "read"},
		Nonce: "n", CodeChallenge: "c", CodeChallengeMethod: "S256", AuthTime: epoch, Family: "fam-" + hash,
		IDTokenClaims:     map[string]any{"https://app/color": "blue", "https://app/tags": []any{"a", "b"}},
		AccessTokenClaims: map[string]any{"https://app/tier": "gold", "https://app/limits": map[string]any{"daily": 5.0}},
		ExpiresAt:         ms(exp)}
}

func testCodes(t *testing.T, newStore NewStore) {
	t.Run("ConsumeOnce", func(t *testing.T) {
		s := newStore(t)
		c := code("h1", time.Now().Add(time.Minute))
		Expect(t, s.CreateCode(bg, c), nil, "Create")
		Expect(t, s.CreateCode(bg, c), storage.ErrDuplicate, "Create twice")
		got, err := s.ConsumeCode(bg, "h1")
		Expect(t, err, nil, "Consume")
		want := code("h1", time.Now().Add(time.Minute))
		want.ExpiresAt, want.Used = c.ExpiresAt, true
		if got == nil || got.UsedAt.IsZero() {
			t.Fatalf("the consumed code has no UsedAt: %#v", got)
		}
		want.UsedAt = got.UsedAt
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v want %#v", got, want)
		}
		again, err := s.ConsumeCode(bg, "h1")
		Expect(t, err, storage.ErrAlreadyUsed, "Consume twice")
		if again == nil || again.Family != "fam-h1" {
			t.Fatalf("a replay must return the record so its family can be revoked, got %#v", again)
		}
		_, err = s.ConsumeCode(bg, "unknown")
		Expect(t, err, storage.ErrNotFound, "Consume unknown")
	})
	t.Run("Expiry", func(t *testing.T) {
		// The store's clock, not the wall clock, decides: a code created
		// for 60 s is dead once the clock is 61 s on.
		s, clk := clocked(t, newStore)
		Expect(t, s.CreateCode(bg, code("h2", clk.Now().Add(time.Minute))), nil, "Create")
		clk.Advance(61 * time.Second)
		_, err := s.ConsumeCode(bg, "h2")
		Expect(t, err, storage.ErrNotFound, "Consume expired")
		c := code("h2", clk.Now().Add(time.Minute))
		Expect(t, s.CreateCode(bg, c), nil, "Create again over the expired code")
	})
	t.Run("LateReplay", func(t *testing.T) {
		// A consumed code is kept as a used marker until RetainUntil: a
		// replay after its expiry still returns its family.
		s, clk := clocked(t, newStore)
		c := code("h4", clk.Now().Add(time.Minute))
		c.RetainUntil = ms(clk.Now().Add(time.Hour))
		Expect(t, s.CreateCode(bg, c), nil, "Create")
		_, err := s.ConsumeCode(bg, "h4")
		Expect(t, err, nil, "Consume")
		Expect(t, s.CreateCode(bg, code("h4", clk.Now().Add(2*time.Minute))), storage.ErrDuplicate, "Create over a used marker")
		clk.Advance(10 * time.Minute)
		m, err := s.ConsumeCode(bg, "h4")
		Expect(t, err, storage.ErrAlreadyUsed, "replay after the code's expiry")
		if m == nil || m.Family != "fam-h4" || m.ClientID != "app" || m.Hash != "h4" || !m.Used {
			t.Fatalf("a late replay must return the marker with the family, got %#v", m)
		}
		if m.IDTokenClaims != nil || m.AccessTokenClaims != nil || m.Scopes != nil || m.CodeChallenge != "" || m.Subject != "" {
			t.Fatalf("the used marker keeps the grant: %#v", m)
		}
		clk.Advance(time.Hour)
		_, err = s.ConsumeCode(bg, "h4")
		Expect(t, err, storage.ErrNotFound, "replay after the retention")
	})
	t.Run("RetentionNeedsConsumption", func(t *testing.T) {
		// Retention keeps used markers only: an unconsumed code is dead at
		// its ExpiresAt, and consuming it then does not mark it.
		s, clk := clocked(t, newStore)
		c := code("h5", clk.Now().Add(time.Minute))
		c.RetainUntil = ms(clk.Now().Add(time.Hour))
		Expect(t, s.CreateCode(bg, c), nil, "Create")
		clk.Advance(time.Minute)
		for i := range 2 {
			_, err := s.ConsumeCode(bg, "h5")
			Expect(t, err, storage.ErrNotFound, fmt.Sprint("Consume expired unused code, try ", i))
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		s := newStore(t)
		Expect(t, s.CreateCode(bg, code("", time.Now().Add(time.Minute))), storage.ErrInvalid, "empty hash")
		Expect(t, s.CreateCode(bg, &storage.AuthCode{Hash: "h3"}), storage.ErrInvalid, "no expiry")
	})
}

func family(id string, exp time.Time) *storage.Family {
	return &storage.Family{ID: id, ClientID: "app", Subject: "u1", Audience: "https://api", Scopes: []string{"read", "offline_access"},
		AuthTime: epoch, Claims: map[string]any{"https://app/color": "blue"}, CreatedAt: epoch, ExpiresAt: ms(exp)}
}

func refresh(fam, hash string, exp time.Time) *storage.RefreshToken {
	return &storage.RefreshToken{Hash: hash, Family: fam, ClientID: "app", Subject: "u1", Audience: "https://api",
		Scopes: []string{"read", "offline_access"}, IssuedAt: epoch, ExpiresAt: ms(exp)}
}

func testFamilies(t *testing.T, newStore NewStore) {
	hour := time.Now().Add(time.Hour)
	t.Run("CreateGet", func(t *testing.T) {
		s := newStore(t)
		f := family("f1", hour)
		Expect(t, s.CreateFamily(bg, f, refresh("f1", "t1", hour)), nil, "Create")
		Expect(t, s.CreateFamily(bg, f, nil), storage.ErrDuplicate, "Create twice")
		got, err := s.GetFamily(bg, "f1")
		Expect(t, err, nil, "GetFamily")
		if !reflect.DeepEqual(got, f) {
			t.Fatalf("got %#v want %#v", got, f)
		}
		rt, err := s.GetRefresh(bg, "f1", "t1")
		Expect(t, err, nil, "GetRefresh")
		if !reflect.DeepEqual(rt, refresh("f1", "t1", hour)) {
			t.Fatalf("refresh %#v", rt)
		}
		Expect(t, s.CreateFamily(bg, family("f2", hour), nil), nil, "Create without token")
		_, err = s.GetRefresh(bg, "f2", "t1")
		Expect(t, err, storage.ErrNotFound, "token of another family")
		_, err = s.GetFamily(bg, "nope")
		Expect(t, err, storage.ErrNotFound, "unknown family")
	})
	t.Run("Rotate", func(t *testing.T) {
		s := newStore(t)
		Expect(t, s.CreateFamily(bg, family("f1", hour), refresh("f1", "t1", hour)), nil, "Create")
		old, err := s.RotateRefresh(bg, "f1", "t1", refresh("f1", "t2", hour))
		Expect(t, err, nil, "Rotate")
		if old.Hash != "t1" {
			t.Fatalf("Rotate returned %#v", old)
		}
		used, err := s.GetRefresh(bg, "f1", "t1")
		Expect(t, err, nil, "GetRefresh old")
		if !used.Used {
			t.Fatal("the rotated token is not marked used")
		}
		if _, err := s.GetRefresh(bg, "f1", "t2"); err != nil {
			t.Fatalf("next token: %v", err)
		}
		again, err := s.RotateRefresh(bg, "f1", "t1", refresh("f1", "t3", hour))
		Expect(t, err, storage.ErrAlreadyUsed, "Rotate a used token")
		if again == nil || again.Hash != "t1" {
			t.Fatalf("reuse must return the old token, got %#v", again)
		}
		_, err = s.GetRefresh(bg, "f1", "t3")
		Expect(t, err, storage.ErrNotFound, "next of a refused rotation")
		_, err = s.RotateRefresh(bg, "f1", "unknown", refresh("f1", "t4", hour))
		Expect(t, err, storage.ErrNotFound, "Rotate unknown")
	})
	t.Run("Revoke", func(t *testing.T) {
		s := newStore(t)
		Expect(t, s.CreateFamily(bg, family("f1", hour), refresh("f1", "t1", hour)), nil, "Create")
		Expect(t, s.RevokeFamily(bg, "f1"), nil, "RevokeFamily")
		Expect(t, s.RevokeFamily(bg, "f1"), nil, "RevokeFamily twice")
		_, err := s.GetRefresh(bg, "f1", "t1")
		Expect(t, err, storage.ErrRevoked, "GetRefresh")
		_, err = s.RotateRefresh(bg, "f1", "t1", refresh("f1", "t2", hour))
		Expect(t, err, storage.ErrRevoked, "RotateRefresh")
		f, err := s.GetFamily(bg, "f1")
		Expect(t, err, nil, "GetFamily")
		if !f.Revoked {
			t.Fatal("family not marked revoked")
		}
		revoked, err := s.TokenRevoked(bg, "f1", "f1.any-jti")
		Expect(t, err, nil, "TokenRevoked")
		if !revoked {
			t.Fatal("access token of a revoked family not reported revoked")
		}
	})
	t.Run("RevokeBeforeCreate", func(t *testing.T) {
		// A replayed code revokes its family before the first exchange of
		// the same code has stored it: the family must never come alive.
		s := newStore(t)
		Expect(t, s.RevokeFamily(bg, "f1"), nil, "RevokeFamily of a family not stored yet")
		Expect(t, s.RevokeFamily(bg, "f1"), nil, "RevokeFamily twice")
		revoked, err := s.TokenRevoked(bg, "f1", "f1.jti")
		Expect(t, err, nil, "TokenRevoked")
		if !revoked {
			t.Fatal("TokenRevoked does not see the revocation of a family not stored yet")
		}
		_, err = s.GetFamily(bg, "f1")
		Expect(t, err, storage.ErrNotFound, "GetFamily of a tombstone")
		_, err = s.GetRefresh(bg, "f1", "t1")
		Expect(t, err, storage.ErrRevoked, "GetRefresh of a tombstone")
		Expect(t, s.CreateFamily(bg, family("f1", hour), refresh("f1", "t1", hour)), storage.ErrRevoked, "CreateFamily after RevokeFamily")
		_, err = s.GetRefresh(bg, "f1", "t1")
		Expect(t, err, storage.ErrRevoked, "GetRefresh after the refused CreateFamily")
		_, err = s.RotateRefresh(bg, "f1", "t1", refresh("f1", "t2", hour))
		Expect(t, err, storage.ErrRevoked, "RotateRefresh after the refused CreateFamily")
		if f, err := s.GetFamily(bg, "f1"); err == nil && !f.Revoked || err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("GetFamily after the refused CreateFamily: %+v %v", f, err)
		}
		if revoked, err := s.TokenRevoked(bg, "f1", "f1.jti"); err != nil || !revoked {
			t.Fatalf("TokenRevoked after the refused CreateFamily: %v %v", revoked, err)
		}
		// Other families are untouched.
		Expect(t, s.CreateFamily(bg, family("f2", hour), refresh("f2", "t1", hour)), nil, "CreateFamily of another id")
		if revoked, err := s.TokenRevoked(bg, "f2", "f2.jti"); err != nil || revoked {
			t.Fatalf("another family reported revoked: %v %v", revoked, err)
		}
	})
	t.Run("ReuseAfterManyRotations", func(t *testing.T) {
		// Every rotated token of a live family is reuse until it expires,
		// however many rotations ago it was replaced.
		s := newStore(t)
		Expect(t, s.CreateFamily(bg, family("f1", hour), refresh("f1", "t0", hour)), nil, "Create")
		const n = 100
		for i := 0; i < n; i++ {
			_, err := s.RotateRefresh(bg, "f1", fmt.Sprint("t", i), refresh("f1", fmt.Sprint("t", i+1), hour))
			Expect(t, err, nil, fmt.Sprint("rotation ", i))
		}
		for _, i := range []int{0, 1, n / 2, n - 1} {
			old, err := s.RotateRefresh(bg, "f1", fmt.Sprint("t", i), refresh("f1", fmt.Sprint("x", i), hour))
			Expect(t, err, storage.ErrAlreadyUsed, fmt.Sprint("reuse of the token rotated out by rotation ", i))
			if old == nil || old.Hash != fmt.Sprint("t", i) || !old.Used {
				t.Fatalf("reuse must return the used token, got %#v", old)
			}
			rt, err := s.GetRefresh(bg, "f1", fmt.Sprint("t", i))
			Expect(t, err, nil, "GetRefresh of a rotated token")
			if !rt.Used {
				t.Fatalf("token t%d not reported used", i)
			}
		}
		cur, err := s.GetRefresh(bg, "f1", fmt.Sprint("t", n))
		Expect(t, err, nil, "GetRefresh of the current token")
		if cur.Used {
			t.Fatal("the current token is reported used")
		}
		// The caller answers reuse by revoking the family (RFC 9700 §4.14.2).
		Expect(t, s.RevokeFamily(bg, "f1"), nil, "RevokeFamily")
		_, err = s.RotateRefresh(bg, "f1", fmt.Sprint("t", n), refresh("f1", "y", hour))
		Expect(t, err, storage.ErrRevoked, "current token after the revocation")
	})
	t.Run("Expiry", func(t *testing.T) {
		s, clk := clocked(t, newStore)
		hour, short := clk.Now().Add(time.Hour), clk.Now().Add(time.Minute)
		Expect(t, s.CreateFamily(bg, family("f1", hour), refresh("f1", "t1", short)), nil, "Create")
		Expect(t, s.CreateFamily(bg, family("f2", short), refresh("f2", "t1", short)), nil, "Create short family")
		clk.Advance(time.Minute)
		_, err := s.GetRefresh(bg, "f1", "t1")
		Expect(t, err, storage.ErrNotFound, "expired refresh token")
		_, err = s.RotateRefresh(bg, "f1", "t1", refresh("f1", "t2", hour))
		Expect(t, err, storage.ErrNotFound, "rotate expired token")
		_, err = s.GetRefresh(bg, "f1", "t2")
		Expect(t, err, storage.ErrNotFound, "successor of a refused rotation")
		_, err = s.GetFamily(bg, "f2")
		Expect(t, err, storage.ErrNotFound, "expired family")
		Expect(t, s.CreateFamily(bg, family("f2", hour), nil), nil, "Create over the expired family")
	})
	t.Run("TombstoneLifetime", func(t *testing.T) {
		// A tombstone lives storage.FamilyTombstoneLifetime on the store's clock.
		s, clk := clocked(t, newStore)
		Expect(t, s.RevokeFamily(bg, "f1"), nil, "RevokeFamily")
		clk.Advance(storage.FamilyTombstoneLifetime - time.Second)
		if revoked, err := s.TokenRevoked(bg, "f1", "f1.j"); err != nil || !revoked {
			t.Fatalf("tombstone lost before its lifetime: %v %v", revoked, err)
		}
		clk.Advance(time.Second)
		if revoked, err := s.TokenRevoked(bg, "f1", "f1.j"); err != nil || revoked {
			t.Fatalf("tombstone seen after its lifetime: %v %v", revoked, err)
		}
		hour := clk.Now().Add(time.Hour)
		Expect(t, s.CreateFamily(bg, family("f1", hour), refresh("f1", "t1", hour)), nil, "CreateFamily after the tombstone expired")
		_, err := s.GetRefresh(bg, "f1", "t1")
		Expect(t, err, nil, "GetRefresh of the new family")
	})
	t.Run("Invalid", func(t *testing.T) {
		s := newStore(t)
		Expect(t, s.CreateFamily(bg, family("", hour), nil), storage.ErrInvalid, "empty id")
		Expect(t, s.CreateFamily(bg, &storage.Family{ID: "f"}, nil), storage.ErrInvalid, "no expiry")
	})
}

func testRevocations(t *testing.T, newStore NewStore) {
	s := newStore(t)
	Expect(t, s.RevokeToken(bg, &storage.Revocation{JTI: "j1", ExpiresAt: ms(time.Now().Add(time.Hour))}), nil, "Revoke")
	Expect(t, s.RevokeToken(bg, &storage.Revocation{JTI: "j1", ExpiresAt: ms(time.Now().Add(time.Hour))}), nil, "Revoke twice")
	Expect(t, s.RevokeToken(bg, &storage.Revocation{JTI: "f9.j2", Family: "f9", ExpiresAt: ms(time.Now().Add(time.Hour))}), nil, "Revoke in family")
	for _, tc := range []struct {
		family, jti string
		want        bool
	}{{"", "j1", true}, {"", "j2", false}, {"f9", "f9.j2", true}, {"f9", "f9.j3", false}} {
		got, err := s.TokenRevoked(bg, tc.family, tc.jti)
		Expect(t, err, nil, "TokenRevoked")
		if got != tc.want {
			t.Fatalf("TokenRevoked(%q, %q) = %v, want %v", tc.family, tc.jti, got, tc.want)
		}
	}
	Expect(t, s.RevokeToken(bg, &storage.Revocation{JTI: "j4"}), storage.ErrInvalid, "no expiry")
	cs, clk := clocked(t, newStore)
	exp := clk.Now().Add(time.Minute)
	Expect(t, cs.RevokeToken(bg, &storage.Revocation{JTI: "j5", ExpiresAt: ms(exp)}), nil, "short revocation")
	Expect(t, cs.RevokeToken(bg, &storage.Revocation{JTI: "f9.j6", Family: "f9", ExpiresAt: ms(exp)}), nil, "short revocation in family")
	clk.Advance(time.Minute)
	for _, tc := range [][2]string{{"", "j5"}, {"f9", "f9.j6"}} {
		if got, err := cs.TokenRevoked(bg, tc[0], tc[1]); err != nil || got {
			t.Fatalf("expired revocation %v: %v %v", tc, got, err)
		}
	}
}

// TombstoneExpiry checks that the revocation of a family that was never
// stored expires: s must be a store judging expiries by clk whose tombstone
// lifetime the driver's test shortened to lifetime. Once clk has moved past
// it, the id is free again and nothing reports it revoked.
func TombstoneExpiry(t *testing.T, s storage.Store, clk *Clock, lifetime time.Duration) {
	t.Helper()
	Expect(t, s.RevokeFamily(bg, "tomb"), nil, "RevokeFamily")
	if revoked, err := s.TokenRevoked(bg, "tomb", "tomb.j"); err != nil || !revoked {
		t.Fatalf("tombstone not seen: %v %v", revoked, err)
	}
	clk.Advance(lifetime)
	if revoked, err := s.TokenRevoked(bg, "tomb", "tomb.j"); err != nil || revoked {
		t.Fatalf("tombstone still seen after its lifetime: %v %v", revoked, err)
	}
	hour := clk.Now().Add(time.Hour)
	Expect(t, s.CreateFamily(bg, family("tomb", hour), refresh("tomb", "t1", hour)), nil, "CreateFamily after the tombstone expired")
}
