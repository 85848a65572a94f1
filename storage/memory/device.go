package memory

import (
	"context"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// CreateDeviceCode implements storage.DeviceCodes.
func (s *Store) CreateDeviceCode(ctx context.Context, d *storage.DeviceCode) error {
	if err := storage.ValidDeviceCode(d); err != nil {
		return err
	}
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return err
	}
	defer s.b.mu.Unlock()
	if old, ok := t.devices[d.UserCode]; ok && storage.Live(storage.DeviceKeptUntil(old), now) {
		return storage.ErrDuplicate
	}
	t.devices[d.UserCode] = cloneDevice(d)
	t.schedule(kindDevice, d.UserCode, storage.DeviceKeptUntil(d), now)
	return nil
}

// GetDeviceCode implements storage.DeviceCodes.
func (s *Store) GetDeviceCode(ctx context.Context, userCode string) (*storage.DeviceCode, error) {
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return nil, err
	}
	defer s.b.mu.Unlock()
	d, ok := t.devices[userCode]
	if !ok || d.Used || storage.Expired(d.ExpiresAt, now) {
		return nil, storage.ErrNotFound
	}
	return cloneDevice(d), nil
}

// DecideDeviceCode implements storage.DeviceCodes.
func (s *Store) DecideDeviceCode(ctx context.Context, userCode string, g *storage.DeviceGrant, retainUntil time.Time) error {
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return err
	}
	defer s.b.mu.Unlock()
	next, err := storage.DeviceDecide(t.devices[userCode], g, retainUntil, now)
	if err != nil {
		return err
	}
	t.devices[userCode] = cloneDevice(next)
	t.schedule(kindDevice, userCode, storage.DeviceKeptUntil(next), now)
	return nil
}

// PollDeviceCode implements storage.DeviceCodes.
func (s *Store) PollDeviceCode(ctx context.Context, userCode, hash, clientID string) (*storage.DeviceCode, error) {
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return nil, err
	}
	defer s.b.mu.Unlock()
	next, out, err := storage.DevicePoll(t.devices[userCode], hash, clientID, now)
	if next != nil {
		t.devices[userCode] = cloneDevice(next)
	}
	if out != nil {
		out = cloneDevice(out)
	}
	return out, err
}

// CountAttempt implements storage.DeviceCodes.
func (s *Store) CountAttempt(ctx context.Context, key, id string, window time.Duration) (int64, error) {
	if key == "" || id == "" || window <= 0 {
		return 0, storage.ErrInvalid
	}
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return 0, err
	}
	defer s.b.mu.Unlock()
	t.reclaimAttempts(key, now)
	m := t.attempts[key]
	if m == nil {
		m = map[string]time.Time{}
		t.attempts[key] = m
	}
	m[id] = now.Add(window)
	t.schedule(kindAttempt, key, now.Add(window), now)
	return int64(len(m)), nil
}

// ForgetAttempt implements storage.DeviceCodes.
func (s *Store) ForgetAttempt(ctx context.Context, key, id string) error {
	t, _, err := s.lockRead(ctx)
	if err != nil {
		return err
	}
	defer s.b.mu.Unlock()
	if m := t.attempts[key]; m != nil {
		delete(m, id)
		if len(m) == 0 {
			delete(t.attempts, key)
		}
	}
	return nil
}

// reclaimAttempts drops the expired attempts of key. The caller holds the
// write lock. The live attempts of a key are bounded by the callers'
// limits (a refused attempt is forgotten), so the scan is too.
func (t *tenant) reclaimAttempts(key string, now time.Time) {
	m := t.attempts[key]
	for id, exp := range m {
		if storage.Expired(exp, now) {
			delete(m, id)
		}
	}
	if m != nil && len(m) == 0 {
		delete(t.attempts, key)
	}
}
