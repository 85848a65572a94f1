// Package event is the vocabulary of the issuer's security events: one
// typed Event per security-relevant outcome (a token issued or refused, a
// client that failed to authenticate, a refresh token rotated or reused, a
// code replayed, consent given or withdrawn, a rule's denial, a signing key's
// life, a storage outage, a management write), and the hooks a host
// registers to receive them (authz.Config.EventHooks).
//
// A hook wraps the next handler, as go-redis hooks do: it may look at an
// event, change it, pass it on by calling next, or drop it by not calling
// next. The last handler of the chain writes the event to the server's
// slog.Logger with the attribute names of the constants Attr* and the level
// of Level. No event carries a secret, a code or a token: only hashes and
// identifiers (jti, family id, kid). See docs/EVENTS.md.
package event
