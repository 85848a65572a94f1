// Package token is the cryptography both sides of scopekit build on, for
// code that handles keys or JWTs itself (the issuer and the resource side
// use it; a host loads or wraps its keys with it): signing keys (generate,
// load, rotate, publish as a JWKS), compact JWS signing, JWT verification
// with a mandatory algorithm allow-list (RFC 8725), the RFC 9068 access-token
// claim set, remote JWKS for APIs that check another issuer's tokens, and
// the hashing of secrets and tokens at rest.
//
// It depends on go-jose v4 for JWK handling and on the standard library for
// the signature primitives themselves, so that signing costs what the
// primitive costs.
package token
