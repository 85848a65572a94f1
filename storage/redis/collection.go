package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scopekit/scopekit/storage"
)

// collection is a storage.Collection of JSON records under the tenant's tag,
// with a sorted-set index of keys for ordered and prefix listing.
type collection[T any, PT interface {
	*T
	storage.Record
}] struct {
	s    *Store
	kind string
	// members, when set, are the record's members of the kind's lookup
	// index (lookups.go), written by the same script as the record.
	members func(*T) []string
}

// writeKeys are the keys of a write beyond the record (and the key index
// for creates and deletes): the lookup index and the record's members, for
// a kind with lookups.
func (c collection[T, PT]) writeKeys(keys []string, key string) []string {
	if c.members == nil {
		return keys
	}
	return append(keys, c.s.lookupKey(c.kind), c.s.membersKey(c.kind, key))
}

// writeArgs appends the record's lookup members to a script's arguments.
func (c collection[T, PT]) writeArgs(args []any, rec *T) []any {
	if c.members == nil {
		return args
	}
	for _, m := range c.members(rec) {
		args = append(args, m)
	}
	return args
}

// encodeNew serialises a copy of rec at a new revision; it returns the
// record's key, the JSON and the revision.
func (c collection[T, PT]) encodeNew(ctx context.Context, rec *T) (key, v string, rev int64, err error) {
	if err := ctx.Err(); err != nil {
		return "", "", 0, err
	}
	key = PT(rec).Key()
	if !storage.ValidKey(key) {
		return "", "", 0, storage.ErrInvalid
	}
	next := *rec
	rev = storage.NewRevision()
	PT(&next).SetRev(rev)
	v, err = encode(&next)
	return key, v, rev, err
}

// Create implements storage.Collection. One round trip.
func (c collection[T, PT]) Create(ctx context.Context, rec *T) error {
	key, v, rev, err := c.encodeNew(ctx, rec)
	if err != nil {
		return err
	}
	ctx, cancel := c.s.ctx(ctx)
	defer cancel()
	keys := c.writeKeys([]string{c.s.recKey(c.kind, key), c.s.idxKey(c.kind)}, key)
	n, err := createRecord.Run(ctx, c.s.rdb, keys, c.writeArgs([]any{v, key}, rec)...).Int()
	if err != nil {
		return unavailable(err)
	}
	if n == 0 {
		return storage.ErrDuplicate
	}
	PT(rec).SetRev(rev)
	return nil
}

// Update implements storage.Collection: one round trip, a Lua
// compare-and-set on the revision.
func (c collection[T, PT]) Update(ctx context.Context, rec *T) error {
	key, v, rev, err := c.encodeNew(ctx, rec)
	if err != nil {
		return err
	}
	ctx, cancel := c.s.ctx(ctx)
	defer cancel()
	keys := c.writeKeys([]string{c.s.recKey(c.kind, key)}, key)
	n, err := updateRecord.Run(ctx, c.s.rdb, keys, c.writeArgs([]any{v, PT(rec).Rev()}, rec)...).Int()
	if err != nil {
		return unavailable(err)
	}
	switch n {
	case 0:
		return storage.ErrNotFound
	case -1:
		return storage.ErrConflict
	case -2:
		var zero T
		return fmt.Errorf("%w: redis %T", storage.ErrCorrupt, zero)
	}
	PT(rec).SetRev(rev)
	return nil
}

// Get implements storage.Collection. One round trip.
func (c collection[T, PT]) Get(ctx context.Context, key string) (*T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := c.s.ctx(ctx)
	defer cancel()
	v, err := c.s.rdb.Get(ctx, c.s.recKey(c.kind, key)).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return decode[T](v)
}

// Delete implements storage.Collection. One round trip.
func (c collection[T, PT]) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := c.s.ctx(ctx)
	defer cancel()
	keys := c.writeKeys([]string{c.s.recKey(c.kind, key), c.s.idxKey(c.kind)}, key)
	n, err := deleteRecord.Run(ctx, c.s.rdb, keys, key).Int()
	if err != nil {
		return unavailable(err)
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// List implements storage.Collection. Two round trips: one page of the
// key index (ZRANGEBYLEX with LIMIT), then one MGET.
func (c collection[T, PT]) List(ctx context.Context, q storage.ListQuery) (storage.Page[T], error) {
	return c.page(ctx, c.s.idxKey(c.kind), "", q, nil)
}

// page serves a range of the sorted set zset, whose members are base
// followed by a record key: it reads up to Limit+1 members from the range,
// then their records. A record deleted, or no longer matching (keep
// false), between the two reads is left out.
func (c collection[T, PT]) page(ctx context.Context, zset, base string, q storage.ListQuery, keep func(*T) bool) (storage.Page[T], error) {
	if err := ctx.Err(); err != nil {
		return storage.Page[T]{}, err
	}
	r, err := q.Parse()
	if err != nil {
		return storage.Page[T]{}, err
	}
	ctx, cancel := c.s.ctx(ctx)
	defer cancel()
	lo, hi := "["+base+r.Prefix, "+"
	if r.After != "" {
		lo = "(" + base + r.After
	}
	if end, ok := storage.PrefixEnd(base + r.Prefix); ok {
		hi = "(" + end
	}
	members, err := c.s.rdb.ZRangeByLex(ctx, zset, &goredis.ZRangeBy{Min: lo, Max: hi, Count: int64(r.Limit) + 1}).Result()
	if err != nil {
		return storage.Page[T]{}, unavailable(err)
	}
	page := storage.Page[T]{Items: []*T{}}
	if len(members) > r.Limit {
		members = members[:r.Limit]
		page.Next = storage.EncodeCursor(members[r.Limit-1][len(base):])
	}
	if len(members) == 0 {
		return page, nil
	}
	recKeys := make([]string, len(members))
	for i, m := range members {
		recKeys[i] = c.s.recKey(c.kind, m[len(base):])
	}
	vals, err := c.s.rdb.MGet(ctx, recKeys...).Result()
	if err != nil {
		return storage.Page[T]{}, unavailable(err)
	}
	for _, v := range vals {
		if sv, ok := v.(string); ok {
			rec, err := decode[T](sv)
			if err != nil {
				return storage.Page[T]{}, err
			}
			if keep == nil || keep(rec) {
				page.Items = append(page.Items, rec)
			}
		}
	}
	return page, nil
}

// APIs implements storage.Directory.
func (s *Store) APIs() storage.Collection[storage.API] {
	return collection[storage.API, *storage.API]{s, "api", nil}
}

// Clients implements storage.Directory.
func (s *Store) Clients() storage.Collection[storage.Client] {
	return collection[storage.Client, *storage.Client]{s, "client", nil}
}

// ClientGrants implements storage.Directory.
func (s *Store) ClientGrants() storage.Collection[storage.ClientGrant] {
	return collection[storage.ClientGrant, *storage.ClientGrant]{s, "grant", nil}
}

// Users implements storage.Directory.
func (s *Store) Users() storage.Collection[storage.User] {
	return collection[storage.User, *storage.User]{s, "user", userMembers}
}

// Roles implements storage.Directory.
func (s *Store) Roles() storage.Collection[storage.Role] {
	return collection[storage.Role, *storage.Role]{s, "role", nil}
}

// Groups implements storage.Directory.
func (s *Store) Groups() storage.Collection[storage.Group] {
	return collection[storage.Group, *storage.Group]{s, "group", groupMembers}
}

// Consents implements storage.Directory.
func (s *Store) Consents() storage.Collection[storage.Consent] {
	return collection[storage.Consent, *storage.Consent]{s, "consent", nil}
}

// Keys implements storage.Directory.
func (s *Store) Keys() storage.Collection[storage.SigningKey] {
	return watchedKeys{collection[storage.SigningKey, *storage.SigningKey]{s, "key", nil}}
}

// Resolve implements storage.Directory: one MGET, one round trip.
func (s *Store) Resolve(ctx context.Context, clientID, audience string) (*storage.Resolution, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	keys := []string{s.recKey("client", clientID)}
	if audience != "" {
		keys = append(keys, s.recKey("api", audience), s.recKey("grant", storage.JoinKey(clientID, audience)))
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	res := &storage.Resolution{}
	if v, ok := vals[0].(string); ok {
		if res.Client, err = decode[storage.Client](v); err != nil {
			return nil, err
		}
	}
	if audience == "" {
		return res, nil
	}
	if v, ok := vals[1].(string); ok {
		if res.API, err = decode[storage.API](v); err != nil {
			return nil, err
		}
	}
	if v, ok := vals[2].(string); ok {
		if res.Grant, err = decode[storage.ClientGrant](v); err != nil {
			return nil, err
		}
	}
	return res, nil
}
