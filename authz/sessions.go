package authz

import (
	"context"
	"errors"

	"github.com/scopekit/scopekit/storage"
)

// Sessions returns the user's live OP sessions (docs/LOGOUT.md): the
// browser sign-ins at the issuer, with the clients they produced tokens
// for.
func (s *Server) Sessions(ctx context.Context, userID string) ([]*storage.OPSession, error) {
	return s.store.ListSessions(ctx, userID)
}

// EndSession ends one OP session by its id (sid), as a logout of it
// does: the session is deleted, the token families it produced for
// clients with RevokeOnLogout are revoked, and its clients with a
// backchannel_logout_uri are sent a logout token. storage.ErrNotFound when
// no live session has the id. The host's own session is not touched: that
// needs the browser (the end-session endpoint).
func (s *Server) EndSession(ctx context.Context, sid string) error {
	sess, err := s.store.DeleteSession(ctx, sid)
	if err != nil {
		return err
	}
	return s.sessionEnded(ctx, sess)
}

// EndUserSessions ends every OP session of the user ("sign out
// everywhere"), each as EndSession does. A session ended concurrently by
// another caller is skipped.
func (s *Server) EndUserSessions(ctx context.Context, userID string) error {
	list, err := s.store.ListSessions(ctx, userID)
	if err != nil {
		return err
	}
	var errs []error
	for _, sess := range list {
		if err := s.EndSession(ctx, sess.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sessionEnded does what follows the deletion of an OP session: per
// client, the revocation of its families (RevokeOnLogout) and one
// back-channel logout token.
func (s *Server) sessionEnded(ctx context.Context, sess *storage.OPSession) error {
	clients := map[string]*storage.Client{}
	var errs []error
	for _, entry := range sess.Clients {
		c, seen := clients[entry.ClientID]
		if !seen {
			var err error
			c, err = s.store.Clients().Get(ctx, entry.ClientID)
			if errors.Is(err, storage.ErrNotFound) {
				clients[entry.ClientID] = nil
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			clients[entry.ClientID] = c
			if c.BackchannelLogoutURI != "" {
				s.logouts.enqueue(c, sess.UserID, sess.ID)
			}
		}
		if c != nil && c.RevokeOnLogout && entry.Family != "" {
			if err := s.store.RevokeFamily(ctx, entry.Family); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
