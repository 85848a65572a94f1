package admin

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// Role permissions, group roles and members, and user roles are edited
// through their own routes (and scopes), never in the record's body.
var (
	roleReadOnly  = []string{"revision", "permissions"}
	groupReadOnly = []string{"revision", "roles"}
	userReadOnly  = []string{"revision", "updated_at", "roles", "groups"}
)

func viewRole(r *storage.Role) any   { return cloneRole(r) }
func viewGroup(g *storage.Group) any { return cloneGroup(g) }
func viewUser(u *storage.User) any   { return cloneUser(u) }

// crud is the create, read, update, delete and list of one record kind,
// by id, through the Admin.
type crud[T any] struct {
	name     string // the collection's name in paths and listings
	readOnly []string
	idField  string
	id       func(*T) *string
	rev      func(*T) *int64
	view     func(*T) any
	get      func(context.Context, string) (*T, error)
	listFn   func(context.Context, Query) (Page[T], error)
	create   func(context.Context, *T) error
	update   func(context.Context, *T) error
	delete   func(context.Context, string) error
}

func (c *crud[T]) list(w http.ResponseWriter, r *http.Request) {
	q, ok := page(w, r)
	if !ok {
		return
	}
	p, err := c.listFn(r.Context(), q)
	if err != nil {
		fail(w, err)
		return
	}
	writePage(w, c.name, p, c.view)
}

// post creates the record; an absent id is generated.
func (c *crud[T]) post(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, c.readOnly...)
	if !ok {
		return
	}
	rec := new(T)
	if !decodeInto(w, body, rec) {
		return
	}
	if *c.id(rec) == "" {
		*c.id(rec) = token.Random(16)
	}
	if err := c.create(r.Context(), rec); err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Location", "/api/v2/"+c.name+"/"+url.PathEscape(*c.id(rec)))
	writeRecord(w, http.StatusCreated, *c.rev(rec), c.view(rec))
}

func (c *crud[T]) read(w http.ResponseWriter, r *http.Request) {
	rec, err := c.get(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeRecord(w, http.StatusOK, *c.rev(rec), c.view(rec))
}

func (c *crud[T]) patch(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, append(slices.Clone(c.readOnly), c.idField)...)
	if !ok {
		return
	}
	rec := c.edit(w, r, func(rec *T) bool { return decodeInto(w, body, rec) })
	if rec != nil {
		writeRecord(w, http.StatusOK, *c.rev(rec), c.view(rec))
	}
}

// edit changes the record of the path's id through modify (If-Match).
func (c *crud[T]) edit(w http.ResponseWriter, r *http.Request, change func(*T) bool) *T {
	id := r.PathValue("id")
	return modify(w, r, func() (*T, error) { return c.get(r.Context(), id) }, c.rev, change,
		func(rec *T) error { return c.update(r.Context(), rec) })
}

func (c *crud[T]) del(w http.ResponseWriter, r *http.Request) {
	deleted(w, c.delete(r.Context(), r.PathValue("id")))
}

func (h *restAPI) roles() *crud[storage.Role] {
	return &crud[storage.Role]{name: "roles", readOnly: roleReadOnly, idField: "id", view: viewRole,
		id: func(r *storage.Role) *string { return &r.ID }, rev: func(r *storage.Role) *int64 { return &r.Revision },
		get: h.m.GetRole, listFn: h.m.ListRoles, create: h.m.CreateRole, update: h.m.UpdateRole, delete: h.m.DeleteRole}
}

func (h *restAPI) groups() *crud[storage.Group] {
	return &crud[storage.Group]{name: "groups", readOnly: groupReadOnly, idField: "id", view: viewGroup,
		id: func(g *storage.Group) *string { return &g.ID }, rev: func(g *storage.Group) *int64 { return &g.Revision },
		get: h.m.GetGroup, listFn: h.m.ListGroups, create: h.m.CreateGroup, update: h.m.UpdateGroup, delete: h.m.DeleteGroup}
}

func (h *restAPI) users() *crud[storage.User] {
	return &crud[storage.User]{name: "users", readOnly: userReadOnly, idField: "user_id", view: viewUser,
		id: func(u *storage.User) *string { return &u.ID }, rev: func(u *storage.User) *int64 { return &u.Revision },
		get: h.m.GetUser, listFn: h.m.ListUsers, create: h.m.CreateUser, update: h.m.UpdateUser, delete: h.m.DeleteUser}
}

func (h *restAPI) listRoles(w http.ResponseWriter, r *http.Request)  { h.roles().list(w, r) }
func (h *restAPI) createRole(w http.ResponseWriter, r *http.Request) { h.roles().post(w, r) }
func (h *restAPI) getRole(w http.ResponseWriter, r *http.Request)    { h.roles().read(w, r) }
func (h *restAPI) updateRole(w http.ResponseWriter, r *http.Request) { h.roles().patch(w, r) }
func (h *restAPI) deleteRole(w http.ResponseWriter, r *http.Request) { h.roles().del(w, r) }

func (h *restAPI) listGroups(w http.ResponseWriter, r *http.Request)  { h.groups().list(w, r) }
func (h *restAPI) createGroup(w http.ResponseWriter, r *http.Request) { h.groups().post(w, r) }
func (h *restAPI) getGroup(w http.ResponseWriter, r *http.Request)    { h.groups().read(w, r) }
func (h *restAPI) updateGroup(w http.ResponseWriter, r *http.Request) { h.groups().patch(w, r) }
func (h *restAPI) deleteGroup(w http.ResponseWriter, r *http.Request) { h.groups().del(w, r) }

func (h *restAPI) listUsers(w http.ResponseWriter, r *http.Request)  { h.users().list(w, r) }
func (h *restAPI) createUser(w http.ResponseWriter, r *http.Request) { h.users().post(w, r) }
func (h *restAPI) getUser(w http.ResponseWriter, r *http.Request)    { h.users().read(w, r) }
func (h *restAPI) updateUser(w http.ResponseWriter, r *http.Request) { h.users().patch(w, r) }
func (h *restAPI) deleteUser(w http.ResponseWriter, r *http.Request) { h.users().del(w, r) }

// permissionsBody is the body of the role-permission routes.
type permissionsBody struct {
	Permissions []storage.Permission `json:"permissions"`
}

// idsBody reads {"<name>": ["id", ...]}, 1 to MaxListItems ids.
func idsBody(w http.ResponseWriter, r *http.Request, name string) ([]string, bool) {
	body, ok := readBody(w, r)
	if !ok {
		return nil, false
	}
	var in map[string][]string
	if !decodeInto(w, body, &in) {
		return nil, false
	}
	ids, ok := in[name]
	if len(in) != 1 || !ok {
		invalid(w, "invalid_body", name, "is required, and the only field")
		return nil, false
	}
	if len(ids) == 0 || len(ids) > MaxListItems {
		invalid(w, "invalid_body", name, "must have 1 to %d items", MaxListItems)
		return nil, false
	}
	return ids, true
}

func (h *restAPI) rolePermissions(w http.ResponseWriter, r *http.Request) {
	role, err := h.m.GetRole(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("ETag", etag(role.Revision))
	writeJSON(w, http.StatusOK, permissionsBody{Permissions: append([]storage.Permission{}, role.Permissions...)})
}

// editPermissions changes the role's permissions with the request's list.
func (h *restAPI) editPermissions(w http.ResponseWriter, r *http.Request, change func(have, in []storage.Permission) []storage.Permission) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var in permissionsBody
	if !decodeInto(w, body, &in) {
		return
	}
	if len(in.Permissions) > MaxScopesPerAPI {
		invalid(w, "invalid_body", "permissions", "must have at most %d items", MaxScopesPerAPI)
		return
	}
	role := h.roles().edit(w, r, func(role *storage.Role) bool {
		role.Permissions = change(role.Permissions, in.Permissions)
		return true
	})
	if role != nil {
		w.Header().Set("ETag", etag(role.Revision))
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *restAPI) addPermissions(w http.ResponseWriter, r *http.Request) {
	h.editPermissions(w, r, func(have, in []storage.Permission) []storage.Permission {
		for _, p := range in {
			if !slices.Contains(have, p) {
				have = append(have, p)
			}
		}
		return have
	})
}

func (h *restAPI) setPermissions(w http.ResponseWriter, r *http.Request) {
	h.editPermissions(w, r, func(_, in []storage.Permission) []storage.Permission { return in })
}

func (h *restAPI) removePermissions(w http.ResponseWriter, r *http.Request) {
	h.editPermissions(w, r, func(have, in []storage.Permission) []storage.Permission {
		return slices.DeleteFunc(have, func(p storage.Permission) bool { return slices.Contains(in, p) })
	})
}

// usersWhere answers one page of the users keep accepts, reading pages of
// users until it is full (as ListGroupMembers does).
func (h *restAPI) usersWhere(w http.ResponseWriter, r *http.Request, keep func(*storage.User) bool) {
	q, ok := page(w, r)
	if !ok {
		return
	}
	out := Page[storage.User]{}
	cursor := Query{After: q.After, Limit: MaxPageSize}
	for {
		p, err := h.m.ListUsers(r.Context(), cursor)
		if err != nil {
			fail(w, err)
			return
		}
		for _, u := range p.Items {
			if !keep(u) {
				continue
			}
			if len(out.Items) == q.Limit {
				out.Next = out.Items[q.Limit-1].ID
				writePage(w, "users", out, viewUser)
				return
			}
			out.Items = append(out.Items, u)
		}
		if p.Next == "" {
			writePage(w, "users", out, viewUser)
			return
		}
		cursor.After = p.Next
	}
}

// roleUsers lists the users the role is assigned to directly.
func (h *restAPI) roleUsers(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := h.m.GetRole(r.Context(), id); err != nil {
		fail(w, err)
		return
	}
	h.usersWhere(w, r, func(u *storage.User) bool { return slices.Contains(u.Roles, id) })
}

// assignRoleUsers assigns the role to each user of {"users": [...]}.
func (h *restAPI) assignRoleUsers(w http.ResponseWriter, r *http.Request) {
	ids, ok := idsBody(w, r, "users")
	if !ok {
		return
	}
	role := r.PathValue("id")
	if _, err := h.m.GetRole(r.Context(), role); err != nil {
		fail(w, err)
		return
	}
	for _, id := range ids {
		u := modify(w, r, func() (*storage.User, error) { return h.m.GetUser(r.Context(), id) },
			func(u *storage.User) *int64 { return &u.Revision },
			func(u *storage.User) bool {
				if !slices.Contains(u.Roles, role) {
					u.Roles = append(u.Roles, role)
				}
				return true
			},
			func(u *storage.User) error { return h.m.UpdateUser(r.Context(), u) })
		if u == nil {
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *restAPI) groupMembers(w http.ResponseWriter, r *http.Request) {
	q, ok := page(w, r)
	if !ok {
		return
	}
	p, err := h.m.ListGroupMembers(r.Context(), r.PathValue("id"), q)
	if err != nil {
		fail(w, err)
		return
	}
	writePage(w, "members", p, viewUser)
}

// editMembers adds or removes each user of {"members": [...]}.
func (h *restAPI) editMembers(w http.ResponseWriter, r *http.Request, op func(ctx context.Context, group, user string) error) {
	ids, ok := idsBody(w, r, "members")
	if !ok {
		return
	}
	group := r.PathValue("id")
	if _, err := h.m.GetGroup(r.Context(), group); err != nil {
		fail(w, err)
		return
	}
	for _, id := range ids {
		if err := op(r.Context(), group, id); err != nil {
			fail(w, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *restAPI) addMembers(w http.ResponseWriter, r *http.Request) {
	h.editMembers(w, r, h.m.AddGroupMember)
}

func (h *restAPI) removeMembers(w http.ResponseWriter, r *http.Request) {
	h.editMembers(w, r, h.m.RemoveGroupMember)
}

// rolesOf answers the roles of ids, skipping any that no longer exist.
func (h *restAPI) rolesOf(w http.ResponseWriter, r *http.Request, rev int64, ids []string) {
	out := []any{}
	for _, id := range ids {
		role, err := h.m.GetRole(r.Context(), id)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			fail(w, err)
			return
		}
		out = append(out, viewRole(role))
	}
	w.Header().Set("ETag", etag(rev))
	writeJSON(w, http.StatusOK, map[string]any{"roles": out})
}

// addIDs and removeIDs edit a list of role ids.
func addIDs(have, in []string) []string {
	for _, id := range in {
		if !slices.Contains(have, id) {
			have = append(have, id)
		}
	}
	return have
}

func removeIDs(have, in []string) []string {
	return slices.DeleteFunc(have, func(id string) bool { return slices.Contains(in, id) })
}

func (h *restAPI) groupRoles(w http.ResponseWriter, r *http.Request) {
	g, err := h.m.GetGroup(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	h.rolesOf(w, r, g.Revision, g.Roles)
}

func (h *restAPI) editGroupRoles(w http.ResponseWriter, r *http.Request, op func(have, in []string) []string) {
	ids, ok := idsBody(w, r, "roles")
	if !ok {
		return
	}
	g := h.groups().edit(w, r, func(g *storage.Group) bool { g.Roles = op(g.Roles, ids); return true })
	if g != nil {
		w.Header().Set("ETag", etag(g.Revision))
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *restAPI) addGroupRoles(w http.ResponseWriter, r *http.Request) {
	h.editGroupRoles(w, r, addIDs)
}

func (h *restAPI) removeGroupRoles(w http.ResponseWriter, r *http.Request) {
	h.editGroupRoles(w, r, removeIDs)
}

func (h *restAPI) userRoles(w http.ResponseWriter, r *http.Request) {
	u, err := h.m.GetUser(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	h.rolesOf(w, r, u.Revision, u.Roles)
}

func (h *restAPI) editUserRoles(w http.ResponseWriter, r *http.Request, op func(have, in []string) []string) {
	ids, ok := idsBody(w, r, "roles")
	if !ok {
		return
	}
	u := h.users().edit(w, r, func(u *storage.User) bool { u.Roles = op(u.Roles, ids); return true })
	if u != nil {
		w.Header().Set("ETag", etag(u.Revision))
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *restAPI) addUserRoles(w http.ResponseWriter, r *http.Request) {
	h.editUserRoles(w, r, addIDs)
}

func (h *restAPI) removeUserRoles(w http.ResponseWriter, r *http.Request) {
	h.editUserRoles(w, r, removeIDs)
}

// userPermissions lists the user's effective permissions, direct and
// through groups, for every API a role of theirs names
// (authz.Server.Permissions decides them).
func (h *restAPI) userPermissions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := h.m.GetUser(ctx, r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	roles := slices.Clone(u.Roles)
	for _, gid := range u.Groups {
		g, err := h.m.GetGroup(ctx, gid)
		if err != nil && !isNotFound(err) {
			fail(w, err)
			return
		}
		if g != nil {
			roles = append(roles, g.Roles...)
		}
	}
	var auds []string
	for _, rid := range roles {
		role, err := h.m.GetRole(ctx, rid)
		if err != nil && !isNotFound(err) {
			fail(w, err)
			return
		}
		for _, p := range roleOrEmpty(role) {
			if !slices.Contains(auds, p.Audience) {
				auds = append(auds, p.Audience)
			}
		}
	}
	out := []storage.Permission{}
	for _, aud := range auds {
		scopes, err := h.m.srv.Permissions(ctx, u, aud)
		if err != nil {
			fail(w, err)
			return
		}
		for _, s := range scopes {
			out = append(out, storage.Permission{Audience: aud, Scope: s})
		}
	}
	writeJSON(w, http.StatusOK, permissionsBody{Permissions: out})
}

// roleOrEmpty returns the role's permissions, none for a missing role.
func roleOrEmpty(r *storage.Role) []storage.Permission {
	if r == nil {
		return nil
	}
	return r.Permissions
}
