package storage

import (
	"context"
	"time"
)

// MaxSessionClients bounds the client entries of one OP session: a
// sign-in that has given this many (client, family) pairs tokens starts no
// more (AddSessionClient answers ErrTooMany).
const MaxSessionClients = 64

// MaxSessionsPerUser bounds the live sessions ListSessions returns for one
// user, and so the sessions EndUserSessions ends in one call.
const MaxSessionsPerUser = 256

// OPSession is a browser's sign-in at the issuer (the OP session of OIDC
// Session Management): what RP-initiated and back-channel logout end. Its
// ID is the sid claim of the ID tokens it produced (OIDC Back-Channel
// Logout 1.0 §2.1).
type OPSession struct {
	// ID is the session id (sid): random, the key.
	ID string `json:"id" bson:"sid"`
	// UserID is the signed-in user.
	UserID string `json:"user_id" bson:"user_id"`
	// AuthTime is when the user authenticated.
	AuthTime time.Time `json:"auth_time" bson:"auth_time"`
	// Clients are the clients the session produced tokens for, each with
	// the token family of one authorization, in the order added.
	Clients []SessionClient `json:"clients,omitempty" bson:"clients,omitempty"`
	// CreatedAt is the session's start; LastSeen the last authorization
	// it served.
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
	LastSeen  time.Time `json:"last_seen" bson:"last_seen"`
	// ExpiresAt ends the session.
	ExpiresAt time.Time `json:"expires_at" bson:"expires_at"`
}

// SessionClient is one authorization an OP session served: the client and
// the token family its tokens join.
type SessionClient struct {
	// ClientID is the client.
	ClientID string `json:"client_id" bson:"client_id"`
	// Family is the token family, empty for tokens without one (implicit).
	Family string `json:"family,omitempty" bson:"family,omitempty"`
}

// Sessions keeps OP sessions.
type Sessions interface {
	// CreateSession stores a new session until its ExpiresAt. ErrInvalid
	// without id, user or expiry, or with more than MaxSessionClients
	// clients; ErrDuplicate if the id is taken.
	CreateSession(ctx context.Context, s *OPSession) error
	// GetSession returns a live session; ErrNotFound if absent, expired or
	// deleted.
	GetSession(ctx context.Context, id string) (*OPSession, error)
	// AddSessionClient atomically adds c to the live session's clients
	// (already there: nothing is added) and sets its LastSeen to seen.
	// ErrNotFound if the session is absent, expired or deleted; ErrTooMany
	// when it holds MaxSessionClients other entries; ErrInvalid without a
	// client id. Concurrent adds are all kept.
	AddSessionClient(ctx context.Context, id string, c SessionClient, seen time.Time) error
	// ListSessions returns the user's live sessions, at most
	// MaxSessionsPerUser (ErrTooMany beyond), in no particular order.
	ListSessions(ctx context.Context, userID string) ([]*OPSession, error)
	// DeleteSession atomically removes a live session and returns it as it
	// was: of concurrent callers exactly one gets it, the others
	// ErrNotFound.
	DeleteSession(ctx context.Context, id string) (*OPSession, error)
}

// ValidSession checks a record given to CreateSession.
func ValidSession(s *OPSession) error {
	if s == nil || s.ID == "" || len(s.ID) > MaxReplayKeyBytes || s.UserID == "" || s.ExpiresAt.IsZero() || len(s.Clients) > MaxSessionClients {
		return ErrInvalid
	}
	for _, c := range s.Clients {
		if c.ClientID == "" {
			return ErrInvalid
		}
	}
	return nil
}

// AddClient is AddSessionClient applied to a copy of s (a driver applies it
// atomically): the session to store, or ErrTooMany; unchanged clients when
// c is there already.
func AddClient(s *OPSession, c SessionClient, seen time.Time) (*OPSession, error) {
	next := *s
	next.Clients = append([]SessionClient(nil), s.Clients...)
	if seen.After(next.LastSeen) {
		next.LastSeen = seen
	}
	for _, have := range s.Clients {
		if have == c {
			return &next, nil
		}
	}
	if len(s.Clients) >= MaxSessionClients {
		return nil, ErrTooMany
	}
	next.Clients = append(next.Clients, c)
	return &next, nil
}
