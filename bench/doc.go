// Package bench measures scopekit against the raw signature primitives,
// go-jose, ory/fosite and go-oauth2/oauth2 in one run, on the same claims,
// keys and machine. It is its own module so that the peers never enter
// scopekit's dependencies. Run ./run.sh.
package bench
