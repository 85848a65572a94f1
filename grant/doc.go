// Package grant holds the standard token-endpoint grants of scopekit for the
// host to register in authz.Config.Grants, each an authz.Grant deciding on
// the narrow contract of authz.Exchange (see "The grant contract" in
// docs/ARCHITECTURE.md). A custom grant is written the same way.
package grant
