// Package oauth is the OAuth 2.0 wire vocabulary shared by both sides of
// scopekit: the issuer (package authz and its grants) and the resource
// servers that check its tokens (package resource). It imports the standard
// library only.
//
// It holds the error responses and their codes (RFC 6749 §5.2, RFC 6750
// §3.1), scope parsing and formatting with their bounds (RFC 6749 §3.3),
// PKCE (RFC 7636), bearer-token extraction (RFC 6750 §2), and the names of
// grant types, client authentication methods and standard scopes.
//
// The codes (ErrInvalidRequest, ErrInvalidClient, ...) are values of type
// Code whose fields are unexported, so no caller can change what a code
// means for every other caller. Each builder (Code.New, Code.WithDescription,
// Code.WithCause, and the copying methods of *Error) returns a new *Error,
// which the caller owns. errors.Is matches an *Error and a Code by code, in
// both directions.
package oauth
