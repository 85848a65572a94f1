package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/scopekit/scopekit/storage"
)

// A device code is one document, written once; every change is a claim
// (transient.go), keyed by the user code and the device-code hash, so
// that a later record reusing the user code inherits none of them:
//
//	devd the decision: of concurrent decisions one claim is inserted;
//	devp poll n (zero-padded, so ids sort by n): holds the interval and
//	     the instant of the poll. A poll reads the last one and claims the
//	     next number; of concurrent polls one wins it, the others read
//	     again and come too soon (slow_down);
//	devu the taking of the approved grant, holding the used marker.
const (
	claimDeviceDecision = "devd"
	claimDevicePoll     = "devp"
	claimDeviceUsed     = "devu"
	claimAttempt        = "att"
)

// maxPollRaces bounds how many times a poll reads again after losing the
// claim of the next poll number to a concurrent poll.
const maxPollRaces = 8

// deviceDoc keeps a device code as created, until storage.DeviceKeptUntil.
type deviceDoc struct {
	ID        string              `bson:"_id"`
	Tenant    string              `bson:"tenant"`
	ExpiresAt time.Time           `bson:"expires_at"`
	Device    *storage.DeviceCode `bson:"device"`
}

// CreateDeviceCode implements storage.DeviceCodes.
func (s *Store) CreateDeviceCode(ctx context.Context, d *storage.DeviceCode) error {
	if err := storage.ValidDeviceCode(d); err != nil {
		return err
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	id := s.id(d.UserCode)
	c := *d
	return s.insertFresh(ctx, s.c.devices, id, &deviceDoc{ID: id, Tenant: s.tenant, ExpiresAt: storage.DeviceKeptUntil(d), Device: &c})
}

// device reads the kept device code of the user code with its decision
// and whether it was taken (the marker, nil when not).
func (s *Store) device(ctx context.Context, userCode string) (d, marker *storage.DeviceCode, err error) {
	var doc deviceDoc
	if err := s.findOne(ctx, s.c.devices, bson.M{"_id": s.id(userCode), "expires_at": live(s.now())}, &doc); err != nil {
		return nil, nil, err
	}
	if doc.Device == nil {
		return nil, nil, corrupt(s.c.devices)
	}
	d = doc.Device
	fixDevice(d)
	used, err := s.findClaim(ctx, s.claimID(claimDeviceUsed, userCode, d.Hash))
	if err != nil {
		return nil, nil, err
	}
	if used != nil && used.Device != nil {
		fixDevice(used.Device)
		return d, used.Device, nil
	}
	dec, err := s.findClaim(ctx, s.claimID(claimDeviceDecision, userCode, d.Hash))
	if err != nil {
		return nil, nil, err
	}
	if dec != nil && dec.Device != nil {
		fixDevice(dec.Device)
		d.Status, d.DeviceGrant, d.RetainUntil = dec.Device.Status, dec.Device.DeviceGrant, dec.Device.RetainUntil
	}
	return d, nil, nil
}

// GetDeviceCode implements storage.DeviceCodes.
func (s *Store) GetDeviceCode(ctx context.Context, userCode string) (*storage.DeviceCode, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	d, marker, err := s.device(ctx, userCode)
	if err != nil {
		return nil, err
	}
	if marker != nil || storage.Expired(d.ExpiresAt, s.now()) {
		return nil, storage.ErrNotFound
	}
	if _, err := s.lastPoll(ctx, userCode, d); err != nil {
		return nil, err
	}
	return d, nil
}

// DecideDeviceCode implements storage.DeviceCodes: the decision's claim.
// The document's expiry is extended after, for its retention; a failure
// there leaves the claim, which decides, and shortens only how long a
// second take is recognised.
func (s *Store) DecideDeviceCode(ctx context.Context, userCode string, g *storage.DeviceGrant, retainUntil time.Time) error {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	d, marker, err := s.device(ctx, userCode)
	if err != nil {
		return err
	}
	if marker != nil {
		return storage.ErrNotFound
	}
	next, err := storage.DeviceDecide(d, g, retainUntil, s.now())
	if err != nil {
		return err
	}
	won, err := s.claim(ctx, &claimDoc{ID: s.claimID(claimDeviceDecision, userCode, d.Hash), ExpiresAt: storage.DeviceKeptUntil(next), Device: next})
	if err != nil {
		return err
	}
	if !won {
		return storage.ErrAlreadyUsed
	}
	_, err = s.c.devices.UpdateOne(ctx, bson.M{"_id": s.id(userCode)}, bson.M{"$max": bson.M{"expires_at": storage.DeviceKeptUntil(next)}})
	return mapErr(err)
}

// pollPrefix is the start of the ids of a device code's poll claims.
func (s *Store) pollPrefix(userCode, hash string) string {
	return s.claimID(claimDevicePoll, userCode, hash) + storage.KeySep
}

// lastPoll applies the last poll claim to d (interval and instant) and
// returns its number, 0 before the first poll.
func (s *Store) lastPoll(ctx context.Context, userCode string, d *storage.DeviceCode) (int64, error) {
	p := s.pollPrefix(userCode, d.Hash)
	var c claimDoc
	err := s.findOne(ctx, s.c.claims, bson.M{"_id": bson.M{"$gte": p, "$lt": p + "\x7f"}, "expires_at": live(s.now())},
		&c, options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}}))
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if c.Device == nil || c.Seq <= 0 {
		return 0, corrupt(s.c.claims)
	}
	d.Interval, d.LastPoll = c.Device.Interval, c.Device.LastPoll.UTC()
	return c.Seq, nil
}

// PollDeviceCode implements storage.DeviceCodes.
func (s *Store) PollDeviceCode(ctx context.Context, userCode, hash, clientID string) (*storage.DeviceCode, error) {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	for range maxPollRaces {
		d, marker, err := s.device(ctx, userCode)
		if errors.Is(err, storage.ErrNotFound) || err == nil && (d.Hash != hash || d.ClientID != clientID) {
			return nil, storage.ErrNotFound
		}
		if err != nil {
			return nil, err
		}
		if marker != nil {
			return marker, storage.ErrAlreadyUsed
		}
		seq, err := s.lastPoll(ctx, userCode, d)
		if err != nil {
			return nil, err
		}
		next, out, perr := storage.DevicePoll(d, hash, clientID, s.now())
		if next == nil {
			return out, perr
		}
		// The poll is recorded first; only then is an approved grant taken.
		rec := *out
		rec.DeviceGrant = storage.DeviceGrant{}
		won, err := s.claim(ctx, &claimDoc{ID: fmt.Sprintf("%s%012d", s.pollPrefix(userCode, hash), seq+1), Seq: seq + 1,
			ExpiresAt: storage.DeviceKeptUntil(d), Device: &rec})
		if err != nil {
			return nil, err
		}
		if !won {
			continue // a concurrent poll came first: this one is now too soon
		}
		if perr != nil || !next.Used {
			return out, perr
		}
		taken, err := s.claim(ctx, &claimDoc{ID: s.claimID(claimDeviceUsed, userCode, hash), ExpiresAt: storage.DeviceKeptUntil(next), Device: next})
		if err != nil {
			return nil, err
		}
		if !taken {
			return next, storage.ErrAlreadyUsed
		}
		return out, nil
	}
	return nil, storage.ErrSlowDown
}

// fixDevice restores what BSON does not keep of a device code (UTC
// instants).
func fixDevice(d *storage.DeviceCode) {
	d.ExpiresAt, d.LastPoll, d.AuthTime = d.ExpiresAt.UTC(), d.LastPoll.UTC(), d.AuthTime.UTC()
	if !d.RetainUntil.IsZero() {
		d.RetainUntil = d.RetainUntil.UTC()
	}
}

// CountAttempt implements storage.DeviceCodes: each attempt is a claim of
// its own, inserted before the count, so concurrent attempts each count
// every one inserted before them.
func (s *Store) CountAttempt(ctx context.Context, key, id string, window time.Duration) (int64, error) {
	if key == "" || id == "" || window <= 0 {
		return 0, storage.ErrInvalid
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	now := s.now()
	if _, err := s.claim(ctx, &claimDoc{ID: s.claimID(claimAttempt, key, id), ExpiresAt: now.Add(window)}); err != nil {
		return 0, err
	}
	p := s.claimID(claimAttempt, key) + storage.KeySep
	n, err := s.c.claims.CountDocuments(ctx, bson.M{"_id": bson.M{"$gte": p, "$lt": p + "\x7f"}, "expires_at": live(now)})
	return n, mapErr(err)
}

// ForgetAttempt implements storage.DeviceCodes.
func (s *Store) ForgetAttempt(ctx context.Context, key, id string) error {
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	_, err = s.c.claims.DeleteOne(ctx, bson.M{"_id": s.claimID(claimAttempt, key, id)})
	return mapErr(err)
}
