// Package grant holds the standard token-endpoint grants of scopekit, each an
// authz.Grant registered in authz.Config.Grants.
package grant
