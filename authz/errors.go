package authz

import (
	"context"
	"errors"
	"net/http"

	"github.com/scopekit/scopekit/storage"
)

// Error is an OAuth 2.0 error response (RFC 6749 §5.2, §4.1.2.1; RFC 6750 §3.1).
// Compare errors with errors.Is against the sentinels below: Is compares the
// code only, so a described copy still matches its sentinel.
type Error struct {
	// Code is the "error" value, e.g. "invalid_request".
	Code string `json:"error"`
	// Description is the human-readable "error_description"; it never carries
	// internal details such as storage errors.
	Description string `json:"error_description,omitempty"`
	// Status is the HTTP status the error is answered with.
	Status int `json:"-"`
	// Scope names the missing scopes of an insufficient_scope error.
	Scope string `json:"-"`
	// Basic marks an invalid_client error for a client that authenticated
	// with HTTP Basic, answered with WWW-Authenticate (RFC 6749 §5.2).
	Basic bool `json:"-"`

	cause error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Description == "" {
		return "authz: " + e.Code
	}
	return "authz: " + e.Code + ": " + e.Description
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Unwrap returns the internal cause, if any. It is for logs, never for responses.
func (e *Error) Unwrap() error { return e.cause }

// WithDescription returns a copy of e with the description set.
func (e *Error) WithDescription(desc string) *Error {
	c := *e
	c.Description = desc
	return &c
}

// WithCause returns a copy of e that wraps an internal cause for logging.
func (e *Error) WithCause(err error) *Error {
	c := *e
	c.cause = err
	return &c
}

func newError(code string, status int) *Error { return &Error{Code: code, Status: status} }

// Sentinel errors, one per code.
var (
	// ErrInvalidRequest: malformed, missing or duplicated parameter (RFC 6749 §5.2).
	ErrInvalidRequest = newError("invalid_request", http.StatusBadRequest)
	// ErrInvalidClient: client authentication failed (RFC 6749 §5.2).
	ErrInvalidClient = newError("invalid_client", http.StatusUnauthorized)
	// ErrInvalidGrant: the code, refresh token or credentials are invalid (RFC 6749 §5.2).
	ErrInvalidGrant = newError("invalid_grant", http.StatusBadRequest)
	// ErrUnauthorizedClient: the client may not use this grant (RFC 6749 §5.2).
	ErrUnauthorizedClient = newError("unauthorized_client", http.StatusBadRequest)
	// ErrUnsupportedGrantType: the grant type is not enabled (RFC 6749 §5.2).
	ErrUnsupportedGrantType = newError("unsupported_grant_type", http.StatusBadRequest)
	// ErrInvalidScope: a requested scope is unknown or nothing could be granted (RFC 6749 §5.2).
	ErrInvalidScope = newError("invalid_scope", http.StatusBadRequest)
	// ErrInvalidTarget: the requested audience or resource is unknown (RFC 8707 §2).
	ErrInvalidTarget = newError("invalid_target", http.StatusBadRequest)
	// ErrAccessDenied: the user or a rule denied the request (RFC 6749 §4.1.2.1).
	ErrAccessDenied = newError("access_denied", http.StatusForbidden)
	// ErrUnsupportedResponseType: the response type is not enabled (RFC 6749 §4.1.2.1).
	ErrUnsupportedResponseType = newError("unsupported_response_type", http.StatusBadRequest)
	// ErrLoginRequired: prompt=none and no user is signed in (OIDC Core §3.1.2.6).
	ErrLoginRequired = newError("login_required", http.StatusBadRequest)
	// ErrConsentRequired: prompt=none and consent is missing (OIDC Core §3.1.2.6).
	ErrConsentRequired = newError("consent_required", http.StatusBadRequest)
	// ErrInvalidToken: the bearer token is malformed, expired, revoked or not ours (RFC 6750 §3.1).
	ErrInvalidToken = newError("invalid_token", http.StatusUnauthorized)
	// ErrInsufficientScope: the token lacks a required scope (RFC 6750 §3.1).
	ErrInsufficientScope = newError("insufficient_scope", http.StatusForbidden)
	// ErrUnsupportedTokenType: the token type cannot be revoked (RFC 7009 §2.2.1).
	ErrUnsupportedTokenType = newError("unsupported_token_type", http.StatusBadRequest)
	// ErrServerError: an unexpected internal failure (RFC 6749 §4.1.2.1).
	ErrServerError = newError("server_error", http.StatusInternalServerError)
	// ErrTemporarilyUnavailable: the storage backend cannot answer now (RFC 6749 §4.1.2.1).
	ErrTemporarilyUnavailable = newError("temporarily_unavailable", http.StatusServiceUnavailable)
)

// AsError converts any error into an *Error. An *Error passes through;
// a storage outage or deadline becomes temporarily_unavailable; anything
// else becomes server_error. Internal details stay in the cause only.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, storage.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return ErrTemporarilyUnavailable.WithCause(err)
	}
	return ErrServerError.WithCause(err)
}
