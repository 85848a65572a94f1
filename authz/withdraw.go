package authz

import (
	"context"
	"errors"

	"github.com/scopekit/scopekit/storage"
)

// DeleteUser deletes a user and revokes every token family issued for them:
// their refresh tokens fail with invalid_grant and their access tokens stop
// at Authorize and introspection. The families are revoked even when the
// user is already gone (the error is then storage.ErrNotFound), so a call
// that failed half-way can be repeated.
func (s *Server) DeleteUser(ctx context.Context, id string) error {
	err := s.store.Users().Delete(ctx, id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if rerr := s.revokeFamilies(ctx, id, nil); rerr != nil {
		return rerr
	}
	return err
}

// revokeFamilies revokes the live, unrevoked families of subject that
// match accepts (all of them when match is nil).
func (s *Server) revokeFamilies(ctx context.Context, subject string, match func(*storage.Family) bool) error {
	fams, err := s.store.ListFamilies(ctx, subject)
	if err != nil {
		return err
	}
	for _, f := range fams {
		if f.Revoked || match != nil && !match(f) {
			continue
		}
		if err := s.store.RevokeFamily(ctx, f.ID); err != nil {
			return err
		}
	}
	return nil
}
