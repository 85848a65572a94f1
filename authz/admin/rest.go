package admin

import (
	_ "embed"
	"net/http"
	"strings"

	"github.com/scopekit/scopekit/authz/resource"
)

// The management API's scopes, the names of the product's Auth REST API.
// Each route demands one (docs/ADMIN.md, "REST API").
const (
	ScopeClientsList         = "auth.clients.list"
	ScopeClientsCreate       = "auth.clients.create"
	ScopeClientsUpdate       = "auth.clients.update"
	ScopeClientsDelete       = "auth.clients.delete"
	ScopeResourceServersList = "auth.resourceServers.list"
	ScopeResourceServersCrt  = "auth.resourceServers.create"
	ScopeResourceServersUpd  = "auth.resourceServers.update"
	ScopeResourceServersDel  = "auth.resourceServers.delete"
	ScopeClientGrantsList    = "auth.clientGrants.list"
	ScopeClientGrantsCreate  = "auth.clientGrants.create"
	ScopeClientGrantsUpdate  = "auth.clientGrants.update"
	ScopeClientGrantsDelete  = "auth.clientGrants.delete"
	ScopePermissionsList     = "auth.permissions.list"
	ScopePermissionsCreate   = "auth.permissions.create"
	ScopePermissionsUpdate   = "auth.permissions.update"
	ScopePermissionsDelete   = "auth.permissions.delete"
	ScopeRolesList           = "auth.roles.list"
	ScopeRolesCreate         = "auth.roles.create"
	ScopeRolesUpdate         = "auth.roles.update"
	ScopeRolesDelete         = "auth.roles.delete"
	ScopeGroupsList          = "auth.groups.list"
	ScopeGroupsCreate        = "auth.groups.create"
	ScopeGroupsUpdate        = "auth.groups.update"
	ScopeGroupsDelete        = "auth.groups.delete"
	ScopeUsersList           = "auth.users.list"
	ScopeUsersCreate         = "auth.users.create"
	ScopeUsersUpdate         = "auth.users.update"
	ScopeUsersDelete         = "auth.users.delete"
	ScopeOIDCGrantsList      = "auth.oidc.grants.list"
	ScopeOIDCGrantsDelete    = "auth.oidc.grants.delete"
	ScopeOIDCSessionsList    = "auth.oidc.sessions.list"
	ScopeOIDCSessionsDelete  = "auth.oidc.sessions.delete"
	ScopeTokensList          = "auth.tokens.list"
	ScopeCertificatesList    = "auth.certificates.list"
	ScopeCertificatesCreate  = "auth.certificates.create"
	ScopeClientsJWKCreate    = "auth.clients.jwk_create"
	ScopeClientsJWKUpdate    = "auth.clients.jwk_update"
	ScopeAuditLogsList       = "auth.auditLogs.list"
)

// ManagementScopes are every scope of the management API, in the order of
// the constants above.
func ManagementScopes() []string {
	return []string{
		ScopeClientsList, ScopeClientsCreate, ScopeClientsUpdate, ScopeClientsDelete,
		ScopeResourceServersList, ScopeResourceServersCrt, ScopeResourceServersUpd, ScopeResourceServersDel,
		ScopeClientGrantsList, ScopeClientGrantsCreate, ScopeClientGrantsUpdate, ScopeClientGrantsDelete,
		ScopePermissionsList, ScopePermissionsCreate, ScopePermissionsUpdate, ScopePermissionsDelete,
		ScopeRolesList, ScopeRolesCreate, ScopeRolesUpdate, ScopeRolesDelete,
		ScopeGroupsList, ScopeGroupsCreate, ScopeGroupsUpdate, ScopeGroupsDelete,
		ScopeUsersList, ScopeUsersCreate, ScopeUsersUpdate, ScopeUsersDelete,
		ScopeOIDCGrantsList, ScopeOIDCGrantsDelete, ScopeOIDCSessionsList, ScopeOIDCSessionsDelete,
		ScopeTokensList, ScopeCertificatesList, ScopeCertificatesCreate,
		ScopeClientsJWKCreate, ScopeClientsJWKUpdate, ScopeAuditLogsList,
	}
}

// ManagementAudience is the default identifier of the management API: the
// issuer URL followed by "api/v2/", as Auth0's https://TENANT/api/v2/.
func ManagementAudience(issuer string) string {
	if !strings.HasSuffix(issuer, "/") {
		issuer += "/"
	}
	return issuer + "api/v2/"
}

// RESTConfig configures the management REST API.
type RESTConfig struct {
	// Audience is the identifier of the management API, the "aud" its
	// tokens must carry; empty means ManagementAudience(srv.Issuer()).
	Audience string
}

//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the OpenAPI 3.1 document of the REST API, served at
// /api/v2/openapi.json. The caller owns the copy.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

// restAPI is the REST API over one Admin.
type restAPI struct {
	m     *Admin
	authz *resource.Authorizer
	mux   *http.ServeMux
}

// Handler returns the management REST API (Auth0 Management API v2
// routes under /api/v2/), to be mounted by the host at the root of its
// mux beside Server.Handler. Every route except the OpenAPI document
// demands a bearer token of the management API (cfg.Audience), issued and
// checked by this Server, holding the route's scope; every write goes
// through m's validated methods. Create the API and its first client with
// Bootstrap.
func (m *Admin) Handler(cfg RESTConfig) http.Handler {
	aud := cfg.Audience
	if aud == "" {
		aud = ManagementAudience(m.srv.Issuer())
	}
	h := &restAPI{m: m, authz: m.srv.Authorizer(aud), mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /api/v2/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPIDoc)
	})
	for _, rt := range h.routes() {
		h.mux.HandleFunc(rt.pattern, h.guard(rt.scope, rt.fn))
	}
	h.mux.HandleFunc("/api/v2/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such route")
	})
	return h.mux
}

// route is one operation: method and path pattern, scope, handler.
type route struct {
	pattern string
	scope   string
	fn      http.HandlerFunc
}

// routes lists every operation of the API.
func (h *restAPI) routes() []route {
	return []route{
		{"GET /api/v2/clients", ScopeClientsList, h.listClients},
		{"POST /api/v2/clients", ScopeClientsCreate, h.createClient},
		{"GET /api/v2/clients/{id}", ScopeClientsList, h.getClient},
		{"PATCH /api/v2/clients/{id}", ScopeClientsUpdate, h.updateClient},
		{"DELETE /api/v2/clients/{id}", ScopeClientsDelete, h.deleteClient},
		{"POST /api/v2/clients/{id}/rotate-secret", ScopeClientsUpdate, h.rotateSecret},
		{"GET /api/v2/clients/{id}/refresh-tokens", ScopeTokensList, h.clientTokens},
		{"GET /api/v2/clients/{id}/credentials", ScopeClientsList, h.listCredentials},
		{"POST /api/v2/clients/{id}/credentials", ScopeClientsJWKCreate, h.createCredential},
		{"PATCH /api/v2/clients/{id}/credentials/{kid}", ScopeClientsJWKUpdate, h.updateCredential},
		{"DELETE /api/v2/clients/{id}/credentials/{kid}", ScopeClientsJWKUpdate, h.deleteCredential},

		{"GET /api/v2/resource-servers", ScopeResourceServersList, h.listAPIs},
		{"POST /api/v2/resource-servers", ScopeResourceServersCrt, h.createAPI},
		{"GET /api/v2/resource-servers/{id}", ScopeResourceServersList, h.getAPI},
		{"PATCH /api/v2/resource-servers/{id}", ScopeResourceServersUpd, h.updateAPI},
		{"DELETE /api/v2/resource-servers/{id}", ScopeResourceServersDel, h.deleteAPI},

		{"GET /api/v2/client-grants", ScopeClientGrantsList, h.listGrants},
		{"POST /api/v2/client-grants", ScopeClientGrantsCreate, h.createGrant},
		{"GET /api/v2/client-grants/{id}", ScopeClientGrantsList, h.getGrant},
		{"PATCH /api/v2/client-grants/{id}", ScopeClientGrantsUpdate, h.updateGrant},
		{"DELETE /api/v2/client-grants/{id}", ScopeClientGrantsDelete, h.deleteGrant},

		{"GET /api/v2/roles", ScopeRolesList, h.listRoles},
		{"POST /api/v2/roles", ScopeRolesCreate, h.createRole},
		{"GET /api/v2/roles/{id}", ScopeRolesList, h.getRole},
		{"PATCH /api/v2/roles/{id}", ScopeRolesUpdate, h.updateRole},
		{"DELETE /api/v2/roles/{id}", ScopeRolesDelete, h.deleteRole},
		{"GET /api/v2/roles/{id}/permissions", ScopePermissionsList, h.rolePermissions},
		{"POST /api/v2/roles/{id}/permissions", ScopePermissionsCreate, h.addPermissions},
		{"PUT /api/v2/roles/{id}/permissions", ScopePermissionsUpdate, h.setPermissions},
		{"DELETE /api/v2/roles/{id}/permissions", ScopePermissionsDelete, h.removePermissions},
		{"GET /api/v2/roles/{id}/users", ScopeRolesList, h.roleUsers},
		{"POST /api/v2/roles/{id}/users", ScopeRolesUpdate, h.assignRoleUsers},

		{"GET /api/v2/groups", ScopeGroupsList, h.listGroups},
		{"POST /api/v2/groups", ScopeGroupsCreate, h.createGroup},
		{"GET /api/v2/groups/{id}", ScopeGroupsList, h.getGroup},
		{"PATCH /api/v2/groups/{id}", ScopeGroupsUpdate, h.updateGroup},
		{"DELETE /api/v2/groups/{id}", ScopeGroupsDelete, h.deleteGroup},
		{"GET /api/v2/groups/{id}/members", ScopeGroupsList, h.groupMembers},
		{"POST /api/v2/groups/{id}/members", ScopeGroupsUpdate, h.addMembers},
		{"DELETE /api/v2/groups/{id}/members", ScopeGroupsUpdate, h.removeMembers},
		{"GET /api/v2/groups/{id}/roles", ScopeGroupsList, h.groupRoles},
		{"POST /api/v2/groups/{id}/roles", ScopeGroupsUpdate, h.addGroupRoles},
		{"DELETE /api/v2/groups/{id}/roles", ScopeGroupsUpdate, h.removeGroupRoles},

		{"GET /api/v2/users", ScopeUsersList, h.listUsers},
		{"POST /api/v2/users", ScopeUsersCreate, h.createUser},
		{"GET /api/v2/users/{id}", ScopeUsersList, h.getUser},
		{"PATCH /api/v2/users/{id}", ScopeUsersUpdate, h.updateUser},
		{"DELETE /api/v2/users/{id}", ScopeUsersDelete, h.deleteUser},
		{"GET /api/v2/users/{id}/roles", ScopeUsersList, h.userRoles},
		{"POST /api/v2/users/{id}/roles", ScopeUsersUpdate, h.addUserRoles},
		{"DELETE /api/v2/users/{id}/roles", ScopeUsersUpdate, h.removeUserRoles},
		{"GET /api/v2/users/{id}/permissions", ScopeUsersList, h.userPermissions},
		{"GET /api/v2/users/{id}/sessions", ScopeOIDCSessionsList, h.userSessions},
		{"GET /api/v2/users/{id}/refresh-tokens", ScopeTokensList, h.userTokens},

		{"GET /api/v2/grants", ScopeOIDCGrantsList, h.listConsents},
		{"DELETE /api/v2/grants/{id}", ScopeOIDCGrantsDelete, h.deleteConsent},
		{"DELETE /api/v2/sessions/{id}", ScopeOIDCSessionsDelete, h.deleteSession},

		{"GET /api/v2/keys/signing", ScopeCertificatesList, h.listKeys},
		{"GET /api/v2/keys/signing/{kid}", ScopeCertificatesList, h.getKey},
		{"POST /api/v2/keys/signing/rotate", ScopeCertificatesCreate, h.rotateKey},

		{"GET /api/v2/logs", ScopeAuditLogsList, h.listLogs},
	}
}
