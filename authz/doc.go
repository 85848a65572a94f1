// Package authz is the issuer core for the host: the Go server that imports
// scopekit to become an OAuth 2.0 / OpenID Connect authorization server.
//
// A Server (New, Config) runs the token, authorization, introspection,
// revocation, userinfo and discovery endpoints (Server.Handler) and their
// verbs (Issue, Introspect, Revoke, Explain), over a storage.Store, with the
// grants the host registers (Config.Grants, package grant), the host's
// sign-in (Login), consent page and rule chain (Rule).
//
// The wire vocabulary both sides share (error codes, scopes, PKCE, bearer
// extraction, grant-type names) is package authz/oauth. An API checking the
// tokens uses package authz/resource: Server.Authorizer hands out an
// in-process resource.Authorizer that also sees the store's revocations,
// and resource.NewRemote one for an issuer in another process, without
// linking this package.
package authz
