package admin

import (
	"context"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// GetKey returns the signing key without its private JWK;
// storage.ErrNotFound if none.
func (m *Admin) GetKey(ctx context.Context, kid string) (*storage.SigningKey, error) {
	k, err := m.store.Keys().Get(ctx, kid)
	if err == nil && !token.Supported(k.Alg) {
		err = storage.ErrNotFound // the retry secret shares the collection
	}
	if err != nil {
		return nil, wrap("signing key", kid, err)
	}
	k.JWK = nil
	return k, nil
}

// ListClientFamilies returns the live token families issued to the client,
// revoked or not. The store indexes families by subject only, so it walks
// the users: a cost in the number of users.
func (m *Admin) ListClientFamilies(ctx context.Context, clientID string) ([]*storage.Family, error) {
	var out []*storage.Family
	err := m.eachClientFamily(ctx, clientID, func(f *storage.Family) error {
		out = append(out, f)
		return nil
	})
	return out, err
}

// eachClientFamily calls fn for every live family issued to the client,
// walking the users and their families (storage.Families.ListFamilies).
func (m *Admin) eachClientFamily(ctx context.Context, clientID string, fn func(*storage.Family) error) error {
	return each[storage.User](ctx, m.store.Users(), "", func(u *storage.User) error {
		fams, err := m.store.ListFamilies(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, f := range fams {
			if f.ClientID == clientID {
				if err := fn(f); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
