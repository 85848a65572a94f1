package storagetest

import (
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// testDPoPBinding checks that the DPoP key thumbprint a refresh token is
// bound to (RefreshToken.JKT) is stored with the first token and with a
// rotation's successor, and read back, used or not; and that the DPoP
// requirements of clients and APIs are stored.
func testDPoPBinding(t *testing.T, newStore NewStore) {
	t.Run("RefreshJKT", func(t *testing.T) {
		s := newStore(t)
		hour := time.Now().Add(time.Hour)
		first := refresh("fd", "t1", hour)
		first.JKT = "jkt-one"
		Expect(t, s.CreateFamily(bg, family("fd", hour), first), nil, "Create")
		got, err := s.GetRefresh(bg, "fd", "t1")
		Expect(t, err, nil, "GetRefresh")
		if got.JKT != "jkt-one" {
			t.Fatalf("first token JKT %q, want jkt-one", got.JKT)
		}
		next := refresh("fd", "t2", hour)
		next.JKT = "jkt-one"
		old, err := s.RotateRefresh(bg, "fd", "t1", next)
		Expect(t, err, nil, "Rotate")
		if old.JKT != "jkt-one" {
			t.Fatalf("rotated token JKT %q, want jkt-one", old.JKT)
		}
		if got, err = s.GetRefresh(bg, "fd", "t2"); err != nil || got.JKT != "jkt-one" {
			t.Fatalf("successor %#v, %v: want JKT jkt-one", got, err)
		}
		if got, err = s.GetRefresh(bg, "fd", "t1"); err != nil || got.JKT != "jkt-one" || !got.Used {
			t.Fatalf("used token %#v, %v: want JKT jkt-one", got, err)
		}
	})
	t.Run("RequireDPoP", func(t *testing.T) {
		s := newStore(t)
		api := &storage.API{Identifier: "https://dpop.example.com", Name: "dpop", RequireDPoP: true}
		Expect(t, s.APIs().Create(bg, api), nil, "Create API")
		c := &storage.Client{ID: "dpop-app", Name: "dpop app", Public: true, RequireDPoP: true}
		Expect(t, s.Clients().Create(bg, c), nil, "Create client")
		gotAPI, err := s.APIs().Get(bg, api.Identifier)
		Expect(t, err, nil, "Get API")
		gotClient, err := s.Clients().Get(bg, c.ID)
		Expect(t, err, nil, "Get client")
		if !gotAPI.RequireDPoP || !gotClient.RequireDPoP {
			t.Fatalf("RequireDPoP not stored: API %v, client %v", gotAPI.RequireDPoP, gotClient.RequireDPoP)
		}
	})
}
