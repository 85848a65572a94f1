// Package resource is the resource-server side of scopekit: an API checks
// the bearer tokens presented to it. It imports the token and oauth packages
// and the standard library only, so an API that only checks tokens links
// none of the issuer (package authz, its storage, its templates).
//
// NewRemote builds an Authorizer for the tokens of an issuer reached over
// HTTP (discovery, then its JWKS); an issuer in the same process hands out
// its own with authz.Server.Authorizer, which also sees its revocations. An
// Authorizer verifies the JWT access token (RFC 9068), remembers tokens that
// verified until their exp (Cache), checks the scopes a Requirement names,
// and answers failures as RFC 6750 §3 challenges. Its middleware
// (RequireScopes, RequireAnyScope, Require) puts the verified Principal in
// the request context, read with PrincipalFrom.
package resource
