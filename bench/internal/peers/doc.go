// Package peers builds the token endpoints that the bench module compares,
// scopekit and its peers (ory/fosite, go-oauth2/oauth2, zitadel/oidc,
// node-oidc-provider), on one fixture: the same client, API, scopes, keys,
// lifetime and claim set (RFC 9068 §2.2). The in-process benchmarks of the
// bench package and the HTTP load test of cmd/load both build their
// issuers here, so that the two measure the same configurations.
package peers
