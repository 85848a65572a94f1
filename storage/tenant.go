package storage

import (
	"context"
	"time"
)

// Tenant is the record of one tenant of a multi-tenant host, kept in the
// default tenant "" (the root) and keyed by its ID. The tenant's own data
// lives in the view Store.Tenant(ID).
type Tenant struct {
	// Revisioned is the stored revision (optimistic concurrency).
	Revisioned `bson:",inline"`

	// ID names the tenant: its Store.Tenant id and the last segment of its
	// issuer (a ValidID; the registry may narrow it to a DNS label).
	ID string `json:"id" bson:"id"`
	// Name is the display name.
	Name string `json:"name,omitempty" bson:"name,omitempty"`
	// CreatedAt is when the tenant was created.
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
}

// Key implements Record.
func (t *Tenant) Key() string { return t.ID }

// Tenancy is what a multi-tenant host needs of a driver besides the
// tenant views of Store.Tenant.
type Tenancy interface {
	// Tenants are the tenant records, keyed by tenant id. A host keeps them
	// in the root view (Store.Tenant("")).
	Tenants() Collection[Tenant]
	// DropTenant deletes every record of tenant id, of every kind, whichever
	// view it is called on; the records of other tenants, and the tenant
	// record itself in the root, are untouched. Dropping a tenant without
	// data is not an error. The root "" cannot be dropped (ErrInvalid). A
	// write to the tenant running concurrently with DropTenant may survive
	// it: a host stops serving the tenant first.
	DropTenant(ctx context.Context, id string) error
}
