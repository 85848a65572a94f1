// Package bench measures scopekit against the raw signature primitives,
// go-jose, ory/fosite, go-oauth2/oauth2 and zitadel/oidc in one run, on
// the same claim set (checked by TestClaimSetsAgree), keys and machine, on
// the memory, Redis and MongoDB drivers; the issuers are built by
// internal/peers, which cmd/load also serves over loopback, with
// node-oidc-provider, for the HTTP load test. It is its own module so that
// the peers never enter scopekit's dependencies. Run `bash run.sh`;
// docs/PERFORMANCE.md explains the rows and the results.
package bench
