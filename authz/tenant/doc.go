// Package tenant is for a multi-tenant host: one process and one storage
// backend serve many tenants, each an issuer of its own (its own issuer
// URL, signing keys, directory and management API) over its
// storage.Store.Tenant view.
//
// A Registry keeps the tenant records (storage.Tenant, in the root view
// Store.Tenant("")), builds the *authz.Server of a tenant from a template
// Config when it is first asked for, caches a bounded number of them, and
// routes HTTP requests to them by path (https://my.domain.org/_api/auth/<id>/)
// or by host (https://<id>.auth.example.com/). Tenants are created, listed,
// renamed and deleted through its Go API or its management API (API)
// without a restart; deleting a tenant stops serving it first and then
// drops its data (storage.Tenancy.DropTenant). A token of one tenant never
// verifies at another: issuers and keys differ. See docs/TENANTS.md.
package tenant
