package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/scopekit/scopekit/storage"
)

// An OP session is a document written once; each client entry is a
// document of its own, inserted under a unique id (session, client,
// family), so that concurrent adds never overwrite each other. Deleting a
// session is decided by a claim ("sess"): the caller whose claim is
// inserted gets the session. An add checks that claim after inserting its
// entry: an entry inserted after the deleting caller read the entries
// finds the claim and answers ErrNotFound, so nothing a deleted session
// was told about is missed. The bound on the entries is checked by a count
// before the insert: concurrent adds can pass it together, by at most
// their number.
const claimSession = "sess"

// sessionUserIndex serves ListSessions; sessionClientIndex the reading of
// a session's entries.
var (
	sessionUserIndex   = mongodriver.IndexModel{Keys: bson.D{{Key: "tenant", Value: 1}, {Key: "user_id", Value: 1}}}
	sessionClientIndex = mongodriver.IndexModel{Keys: bson.D{{Key: "session", Value: 1}, {Key: "seq", Value: 1}}}
)

type sessionDoc struct {
	ID     string `bson:"_id"`
	Tenant string `bson:"tenant"`

	storage.OPSession `bson:",inline"`
}

type sessionClientDoc struct {
	ID        string    `bson:"_id"`
	Tenant    string    `bson:"tenant"`
	Session   string    `bson:"session"`
	Seq       int64     `bson:"seq"`
	ExpiresAt time.Time `bson:"expires_at"`

	storage.SessionClient `bson:",inline"`
}

func (s *Store) ensureSessionIndexes(ctx context.Context) error {
	if _, err := s.c.sessions.Indexes().CreateOne(ctx, sessionUserIndex); err != nil {
		return mapErr(err)
	}
	_, err := s.c.sessionClients.Indexes().CreateOne(ctx, sessionClientIndex)
	return mapErr(err)
}

func (s *Store) sessionClientID(id string, c storage.SessionClient) string {
	return s.id(storage.JoinKey("sessc", id, c.ClientID, c.Family))
}

// CreateSession implements storage.Sessions.
func (s *Store) CreateSession(ctx context.Context, sess *storage.OPSession) error {
	if err := storage.ValidSession(sess); err != nil {
		return err
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	d := &sessionDoc{ID: s.id(sess.ID), Tenant: s.tenant, OPSession: *sess}
	d.Clients = nil
	if err := s.insertFresh(ctx, s.c.sessions, d.ID, d); err != nil {
		return err
	}
	for i, c := range sess.Clients {
		e := &sessionClientDoc{ID: s.sessionClientID(sess.ID, c), Tenant: s.tenant, Session: d.ID, Seq: int64(i), ExpiresAt: sess.ExpiresAt, SessionClient: c}
		if err := s.insertFresh(ctx, s.c.sessionClients, e.ID, e); err != nil && !errors.Is(err, storage.ErrDuplicate) {
			return err
		}
	}
	return nil
}

// liveSession reads a session that is live and not deleted, without its
// clients.
func (s *Store) liveSession(ctx context.Context, id string) (*storage.OPSession, error) {
	var d sessionDoc
	if err := s.findOne(ctx, s.c.sessions, bson.M{"_id": s.id(id), "expires_at": live(s.now())}, &d); err != nil {
		return nil, err
	}
	gone, err := s.claimed(ctx, s.claimID(claimSession, id))
	if err != nil {
		return nil, err
	}
	if gone {
		return nil, storage.ErrNotFound
	}
	out := d.OPSession
	return &out, nil
}

// sessionClients reads the entries of the sessions with the given ids
// into them.
func (s *Store) sessionClients(ctx context.Context, sessions ...*storage.OPSession) error {
	byID := map[string]*storage.OPSession{}
	ids := make([]string, 0, len(sessions))
	for _, x := range sessions {
		byID[s.id(x.ID)] = x
		ids = append(ids, s.id(x.ID))
	}
	cur, err := s.c.sessionClients.Find(ctx, bson.M{"session": bson.M{"$in": ids}}, options.Find().SetSort(bson.D{{Key: "seq", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return mapErr(err)
	}
	var docs []sessionClientDoc
	if err := cur.All(ctx, &docs); err != nil {
		return mapErr(err)
	}
	for _, d := range docs {
		if x := byID[d.Session]; x != nil {
			x.Clients = append(x.Clients, d.SessionClient)
		}
	}
	return nil
}

// GetSession implements storage.Sessions.
func (s *Store) GetSession(ctx context.Context, id string) (*storage.OPSession, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	sess, err := s.liveSession(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.sessionClients(ctx, sess); err != nil {
		return nil, err
	}
	return sess, nil
}

// AddSessionClient implements storage.Sessions.
func (s *Store) AddSessionClient(ctx context.Context, id string, c storage.SessionClient, seen time.Time) error {
	if c.ClientID == "" {
		return storage.ErrInvalid
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	sess, err := s.liveSession(ctx, id)
	if err != nil {
		return err
	}
	eid := s.sessionClientID(id, c)
	have, err := s.c.sessionClients.CountDocuments(ctx, bson.M{"_id": eid}, options.Count().SetLimit(1))
	if err != nil {
		return mapErr(err)
	}
	if have == 0 {
		n, err := s.c.sessionClients.CountDocuments(ctx, bson.M{"session": s.id(id)})
		if err != nil {
			return mapErr(err)
		}
		if n >= storage.MaxSessionClients {
			return storage.ErrTooMany
		}
		e := &sessionClientDoc{ID: eid, Tenant: s.tenant, Session: s.id(id), Seq: time.Now().UnixNano(), ExpiresAt: sess.ExpiresAt, SessionClient: c}
		if err := s.insertFresh(ctx, s.c.sessionClients, eid, e); err != nil && !errors.Is(err, storage.ErrDuplicate) {
			return err
		}
	}
	gone, err := s.claimed(ctx, s.claimID(claimSession, id))
	if err != nil {
		return err
	}
	if gone {
		return storage.ErrNotFound
	}
	_, err = s.c.sessions.UpdateOne(ctx, bson.M{"_id": s.id(id)}, bson.M{"$max": bson.M{"last_seen": seen}})
	return mapErr(err)
}

// ListSessions implements storage.Sessions: one query on the sessions by
// user, one per session on its deletion claim, one on their entries.
func (s *Store) ListSessions(ctx context.Context, userID string) ([]*storage.OPSession, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	cur, err := s.c.sessions.Find(ctx, bson.M{"tenant": s.tenant, "user_id": userID, "expires_at": live(s.now())}, options.Find().SetLimit(2*storage.MaxSessionsPerUser+1))
	if err != nil {
		return nil, mapErr(err)
	}
	var docs []sessionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err)
	}
	var out []*storage.OPSession
	for _, d := range docs {
		gone, err := s.claimed(ctx, s.claimID(claimSession, d.OPSession.ID))
		if err != nil {
			return nil, err
		}
		if gone {
			continue
		}
		if len(out) == storage.MaxSessionsPerUser {
			return nil, storage.ErrTooMany
		}
		x := d.OPSession
		x.Clients = nil
		out = append(out, &x)
	}
	if len(out) == 0 {
		return nil, nil
	}
	if err := s.sessionClients(ctx, out...); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteSession implements storage.Sessions: the claim decides; the
// documents are deleted after.
func (s *Store) DeleteSession(ctx context.Context, id string) (*storage.OPSession, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	sess, err := s.liveSession(ctx, id)
	if err != nil {
		return nil, err
	}
	won, err := s.claim(ctx, &claimDoc{ID: s.claimID(claimSession, id), ExpiresAt: sess.ExpiresAt})
	if err != nil {
		return nil, err
	}
	if !won {
		return nil, storage.ErrNotFound
	}
	if err := s.sessionClients(ctx, sess); err != nil {
		return nil, err
	}
	if _, err := s.c.sessionClients.DeleteMany(ctx, bson.M{"session": s.id(id)}); err != nil {
		return nil, mapErr(err)
	}
	if _, err := s.c.sessions.DeleteOne(ctx, bson.M{"_id": s.id(id)}); err != nil {
		return nil, mapErr(err)
	}
	return sess, nil
}
