package memory

import (
	"context"

	"github.com/scopekit/scopekit/storage"
)

// ListFamilies implements storage.Families by a scan of the tenant's
// families under the read lock: the in-process store keeps no index.
func (s *Store) ListFamilies(ctx context.Context, subject string) ([]*storage.Family, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.b.mu.RLock()
	defer s.b.mu.RUnlock()
	t := s.tenant(false)
	if t == nil {
		return nil, nil
	}
	now := s.now()
	var out []*storage.Family
	for _, e := range t.families {
		if e.f.Subject == subject && !storage.Expired(e.f.ExpiresAt, now) {
			out = append(out, cloneFamily(e.f))
		}
	}
	return out, nil
}
