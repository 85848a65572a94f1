package memory

import (
	"context"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// CreateSession implements storage.Sessions.
func (s *Store) CreateSession(ctx context.Context, sess *storage.OPSession) error {
	if err := storage.ValidSession(sess); err != nil {
		return err
	}
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return err
	}
	defer s.b.mu.Unlock()
	if old, ok := t.sessions[sess.ID]; ok && storage.Live(old.ExpiresAt, now) {
		return storage.ErrDuplicate
	}
	t.sessions[sess.ID] = cloneSession(sess)
	if t.userSessions[sess.UserID] == nil {
		t.userSessions[sess.UserID] = map[string]struct{}{}
	}
	t.userSessions[sess.UserID][sess.ID] = struct{}{}
	t.schedule(kindSession, sess.ID, sess.ExpiresAt, now)
	return nil
}

// liveSession returns the session id unless it is absent or expired at
// now; the caller holds the lock.
func (t *tenant) liveSession(id string, now time.Time) *storage.OPSession {
	sess, ok := t.sessions[id]
	if !ok || storage.Expired(sess.ExpiresAt, now) {
		return nil
	}
	return sess
}

// GetSession implements storage.Sessions.
func (s *Store) GetSession(ctx context.Context, id string) (*storage.OPSession, error) {
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return nil, err
	}
	defer s.b.mu.Unlock()
	sess := t.liveSession(id, now)
	if sess == nil {
		return nil, storage.ErrNotFound
	}
	return cloneSession(sess), nil
}

// AddSessionClient implements storage.Sessions.
func (s *Store) AddSessionClient(ctx context.Context, id string, c storage.SessionClient, seen time.Time) error {
	if c.ClientID == "" {
		return storage.ErrInvalid
	}
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return err
	}
	defer s.b.mu.Unlock()
	sess := t.liveSession(id, now)
	if sess == nil {
		return storage.ErrNotFound
	}
	next, err := storage.AddClient(sess, c, seen)
	if err != nil {
		return err
	}
	t.sessions[id] = next
	return nil
}

// ListSessions implements storage.Sessions.
func (s *Store) ListSessions(ctx context.Context, userID string) ([]*storage.OPSession, error) {
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return nil, err
	}
	defer s.b.mu.Unlock()
	var out []*storage.OPSession
	for id := range t.userSessions[userID] {
		sess := t.liveSession(id, now)
		if sess == nil {
			continue
		}
		if len(out) == storage.MaxSessionsPerUser {
			return nil, storage.ErrTooMany
		}
		out = append(out, cloneSession(sess))
	}
	return out, nil
}

// DeleteSession implements storage.Sessions.
func (s *Store) DeleteSession(ctx context.Context, id string) (*storage.OPSession, error) {
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return nil, err
	}
	defer s.b.mu.Unlock()
	sess := t.liveSession(id, now)
	if sess == nil {
		return nil, storage.ErrNotFound
	}
	t.dropSession(id)
	return sess, nil
}

// dropSession removes a session and its index entry. The caller holds
// the lock.
func (t *tenant) dropSession(id string) {
	sess, ok := t.sessions[id]
	if !ok {
		return
	}
	delete(t.sessions, id)
	if ids := t.userSessions[sess.UserID]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(t.userSessions, sess.UserID)
		}
	}
}

func cloneSession(s *storage.OPSession) *storage.OPSession {
	c := *s
	c.Clients = append([]storage.SessionClient(nil), s.Clients...)
	return &c
}
