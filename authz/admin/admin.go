// Package admin is for the host's management code (a console, a REST API,
// a provisioning job): the validated layer over one issuer's directory, with
// create, read, update, delete and list for APIs, clients, client
// grants, users, roles, groups and consents, plus token families and signing
// keys. Every write is checked in one place per record kind (see
// docs/ADMIN.md), whichever path it comes by: this Go API, a REST API over
// it, a configuration file. Deletes cascade so the directory stays
// consistent, and updates are compare-and-swap on the revision the caller
// read (storage.Revisioned).
//
// An Admin manages the directory of one *authz.Server, that is one tenant;
// a multi-tenant host makes one Admin per tenant's Server.
package admin

import (
	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
)

// Admin manages the directory of one Server. It is safe for concurrent use.
type Admin struct {
	srv   *authz.Server
	store storage.Store
}

// New returns the admin layer of srv's directory (its Store).
func New(srv *authz.Server) *Admin {
	return &Admin{srv: srv, store: srv.Store()}
}
