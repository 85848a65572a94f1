package memory

import (
	"context"
	"slices"
	"strings"

	"github.com/scopekit/scopekit/storage"
)

// AppendAudit implements storage.AuditLog: the tenant's log is a slice in
// ID order bounded by keep, whose expired records are dropped on every
// append.
func (s *Store) AppendAudit(ctx context.Context, r *storage.AuditRecord, keep int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.CheckAuditRecord(r, keep); err != nil {
		return err
	}
	r.ID = storage.AuditID(r.Time)
	t, now, err := s.lockRead(ctx)
	if err != nil {
		return err
	}
	defer s.b.mu.Unlock()
	log := slices.DeleteFunc(t.audit, func(a *storage.AuditRecord) bool { return storage.Expired(a.ExpiresAt, now) })
	i, _ := slices.BinarySearchFunc(log, r.ID, func(a *storage.AuditRecord, id string) int { return strings.Compare(a.ID, id) })
	log = slices.Insert(log, i, storage.CloneAuditRecord(r))
	if n := len(log) - keep; n > 0 {
		clear(log[:n])
		log = append(log[:0:0], log[n:]...)
	}
	t.audit = log
	return nil
}

// ListAudit implements storage.AuditLog by a scan from the newest record.
func (s *Store) ListAudit(ctx context.Context, q storage.AuditQuery) (*storage.AuditPage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, err := storage.CheckAuditQuery(q)
	if err != nil {
		return nil, err
	}
	s.b.mu.RLock()
	defer s.b.mu.RUnlock()
	page := &storage.AuditPage{}
	t := s.tenant(false)
	if t == nil {
		return page, nil
	}
	now := s.now()
	for i := len(t.audit) - 1; i >= 0; i-- {
		r := t.audit[i]
		if !storage.AuditMatches(r, q, now) {
			continue
		}
		if len(page.Records) == q.Limit {
			page.Next = page.Records[len(page.Records)-1].ID
			break
		}
		page.Records = append(page.Records, storage.CloneAuditRecord(r))
	}
	return page, nil
}
