package admin_test

import (
	"errors"
	"testing"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// TestSessions: the admin layer lists a user's OP sessions in id order,
// ends one (revoking the families of a RevokeOnLogout client), and ends
// all of a user's; an unknown session is storage.ErrNotFound.
func TestSessions(t *testing.T) {
	m, store := newAdmin(t)
	now := time.Now()
	_, err := m.CreateClient(bg, &storage.Client{ID: "rp", RevokeOnLogout: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"s-b", "s-a", "s-c"} {
		user := "u1"
		if id == "s-c" {
			user = "u2"
		}
		if err := store.CreateSession(bg, &storage.OPSession{ID: id, UserID: user, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour),
			Clients: []storage.SessionClient{{ClientID: "rp", Family: "fam-" + id}}}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := m.UserSessions(bg, "u1")
	if err != nil || len(list) != 2 || list[0].ID != "s-a" || list[1].ID != "s-b" {
		t.Fatalf("UserSessions = %v, %v", list, err)
	}
	if err := m.DeleteSession(bg, "s-a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := store.TokenRevoked(bg, "fam-s-a", "x"); !ok {
		t.Fatal("the ended session's family is not revoked")
	}
	if ok, _ := store.TokenRevoked(bg, "fam-s-b", "x"); ok {
		t.Fatal("another session's family is revoked")
	}
	if err := m.DeleteSession(bg, "s-a"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteSession again: %v", err)
	}
	if err := m.DeleteUserSessions(bg, "u1"); err != nil {
		t.Fatal(err)
	}
	if list, _ := m.UserSessions(bg, "u1"); len(list) != 0 {
		t.Fatalf("sessions left: %v", list)
	}
	if list, _ := m.UserSessions(bg, "u2"); len(list) != 1 {
		t.Fatalf("u2's sessions: %v", list)
	}
}
