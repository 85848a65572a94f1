// Package storage is the persistence contract of scopekit, for driver
// authors and for hosts choosing a store: the record structs, the small
// interfaces of atomic domain operations that the issuer needs, and
// the sentinel errors every driver returns.
//
// Drivers live in sub-packages (storage/memory, storage/redis, storage/mongo)
// and all pass the conformance suite in storage/storagetest.
//
// Rules every driver follows:
//
//   - Secrets, codes and tokens are stored as hashes, never raw: the records
//     carry a Hash field computed by the caller (see token.Hash).
//   - Operations that must be atomic are single methods (ConsumeCode,
//     RotateRefresh, RevokeFamily, TakeAuthRequest), never a read followed by
//     a write.
//   - Long-lived records carry a revision (Revisioned): Update is a
//     compare-and-swap on it, and a stale revision is ErrConflict with
//     nothing written.
//   - Listing is paged (ListQuery, Page) with opaque cursors in key order,
//     and so are the directory's lookups, served from secondary indexes the
//     driver writes with each record: no page scans the directory.
//   - A driver never returns an expired record, even when the backend has not
//     evicted it yet.
//   - Every record lives in a tenant. Store.Tenant returns a view of the same
//     backend scoped to another tenant; no tenant ever sees another's data.
//   - Errors are the sentinels of this package (compare with errors.Is):
//     they wrap ErrUnavailable when the backend cannot answer and
//     ErrCorrupt when a stored record does not decode; nothing of the
//     backend's own error types or messages leaks through.
//   - A family revoked before it is stored stays revoked: RevokeFamily
//     leaves a tombstone (FamilyTombstoneLifetime) and CreateFamily of that
//     id fails with ErrRevoked.
package storage
