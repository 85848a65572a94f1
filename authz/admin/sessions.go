package admin

import (
	"context"
	"slices"
	"strings"

	"github.com/scopekit/scopekit/storage"
)

// UserSessions returns the user's live OP sessions (browser sign-ins at the
// issuer, with the clients they served; docs/LOGOUT.md), sorted by id.
func (m *Admin) UserSessions(ctx context.Context, userID string) ([]*storage.OPSession, error) {
	list, err := m.srv.Sessions(ctx, userID)
	if err != nil {
		return nil, wrap("user", userID, err)
	}
	slices.SortFunc(list, func(a, b *storage.OPSession) int { return strings.Compare(a.ID, b.ID) })
	return list, nil
}

// DeleteSession ends one OP session as a logout does (authz.Server.EndSession):
// its back-channel logouts are sent and, for clients that ask for it, its
// token families revoked. storage.ErrNotFound when no live session has the id.
func (m *Admin) DeleteSession(ctx context.Context, sid string) error {
	return wrap("session", sid, m.srv.EndSession(ctx, sid))
}

// DeleteUserSessions ends every OP session of the user ("sign out
// everywhere", authz.Server.EndUserSessions).
func (m *Admin) DeleteUserSessions(ctx context.Context, userID string) error {
	return wrap("user", userID, m.srv.EndUserSessions(ctx, userID))
}
