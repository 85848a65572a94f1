package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Error is an OAuth 2.0 error response (RFC 6749 §5.2, §4.1.2.1; RFC 6750
// §3.1). Errors are built from a Code with its builders, each of which
// returns a new *Error: an Error is never shared, so changing one changes
// nothing else. Compare errors with errors.Is against the codes below: Is
// compares the code only, so a described copy still matches its code.
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
		return "oauth: " + e.Code
	}
	return "oauth: " + e.Code + ": " + e.Description
}

// Is reports whether target is an *Error or a Code with the same code.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case *Error:
		return t.Code == e.Code
	case Code:
		return t.code == e.Code
	}
	return false
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

// Code is one OAuth error code with its HTTP status. Its fields cannot be
// changed: the package's codes below are the same for every caller.
type Code struct {
	code   string
	status int
}

// Error implements error, so that a Code can be returned and compared as is.
func (c Code) Error() string { return "oauth: " + c.code }

// String returns the "error" value.
func (c Code) String() string { return c.code }

// Status returns the HTTP status the code is answered with.
func (c Code) Status() int { return c.status }

// Is reports whether target is an *Error or a Code with the same code.
func (c Code) Is(target error) bool {
	switch t := target.(type) {
	case *Error:
		return t.Code == c.code
	case Code:
		return t.code == c.code
	}
	return false
}

// New returns a new *Error of the code, without a description.
func (c Code) New() *Error { return &Error{Code: c.code, Status: c.status} }

// WithDescription returns a new *Error of the code with the description.
func (c Code) WithDescription(desc string) *Error {
	e := c.New()
	e.Description = desc
	return e
}

// WithCause returns a new *Error of the code that wraps an internal cause
// for logging.
func (c Code) WithCause(err error) *Error {
	e := c.New()
	e.cause = err
	return e
}

// The error codes, one per "error" value.
var (
	// ErrInvalidRequest: malformed, missing or duplicated parameter (RFC 6749 §5.2).
	ErrInvalidRequest = Code{"invalid_request", http.StatusBadRequest}
	// ErrInvalidClient: client authentication failed (RFC 6749 §5.2).
	ErrInvalidClient = Code{"invalid_client", http.StatusUnauthorized}
	// ErrInvalidGrant: the code, refresh token or credentials are invalid (RFC 6749 §5.2).
	ErrInvalidGrant = Code{"invalid_grant", http.StatusBadRequest}
	// ErrUnauthorizedClient: the client may not use this grant (RFC 6749 §5.2).
	ErrUnauthorizedClient = Code{"unauthorized_client", http.StatusBadRequest}
	// ErrUnsupportedGrantType: the grant type is not enabled (RFC 6749 §5.2).
	ErrUnsupportedGrantType = Code{"unsupported_grant_type", http.StatusBadRequest}
	// ErrInvalidScope: a requested scope is unknown or nothing could be granted (RFC 6749 §5.2).
	ErrInvalidScope = Code{"invalid_scope", http.StatusBadRequest}
	// ErrInvalidTarget: the requested audience or resource is unknown (RFC 8707 §2).
	ErrInvalidTarget = Code{"invalid_target", http.StatusBadRequest}
	// ErrInvalidRequestURI: the request_uri is unknown, expired, used or another client's (RFC 9101 §6.2, RFC 9126 §4).
	ErrInvalidRequestURI = Code{"invalid_request_uri", http.StatusBadRequest}
	// ErrAccessDenied: the user or a rule denied the request (RFC 6749 §4.1.2.1).
	ErrAccessDenied = Code{"access_denied", http.StatusForbidden}
	// ErrUnsupportedResponseType: the response type is not enabled (RFC 6749 §4.1.2.1).
	ErrUnsupportedResponseType = Code{"unsupported_response_type", http.StatusBadRequest}
	// ErrLoginRequired: prompt=none and no user is signed in (OIDC Core §3.1.2.6).
	ErrLoginRequired = Code{"login_required", http.StatusBadRequest}
	// ErrConsentRequired: prompt=none and consent is missing (OIDC Core §3.1.2.6).
	ErrConsentRequired = Code{"consent_required", http.StatusBadRequest}
	// ErrInvalidToken: the bearer token is malformed, expired, revoked or not ours (RFC 6750 §3.1).
	ErrInvalidToken = Code{"invalid_token", http.StatusUnauthorized}
	// ErrInsufficientScope: the token lacks a required scope (RFC 6750 §3.1).
	ErrInsufficientScope = Code{"insufficient_scope", http.StatusForbidden}
	// ErrUnsupportedTokenType: the token type cannot be revoked (RFC 7009 §2.2.1).
	ErrUnsupportedTokenType = Code{"unsupported_token_type", http.StatusBadRequest}
	// ErrAuthorizationPending: the user has not yet approved the device code (RFC 8628 §3.5).
	ErrAuthorizationPending = Code{"authorization_pending", http.StatusBadRequest}
	// ErrSlowDown: the device polled before its interval passed, which grows by 5 s (RFC 8628 §3.5).
	ErrSlowDown = Code{"slow_down", http.StatusBadRequest}
	// ErrExpiredToken: the device code expired (RFC 8628 §3.5).
	ErrExpiredToken = Code{"expired_token", http.StatusBadRequest}
	// ErrInvalidDPoPProof: the DPoP proof is missing, malformed or invalid (RFC 9449 §5, §7.1).
	ErrInvalidDPoPProof = Code{"invalid_dpop_proof", http.StatusBadRequest}
	// ErrUseDPoPNonce: the DPoP proof must carry the server's nonce, sent in DPoP-Nonce (RFC 9449 §8).
	ErrUseDPoPNonce = Code{"use_dpop_nonce", http.StatusBadRequest}
	// ErrServerError: an unexpected internal failure (RFC 6749 §4.1.2.1).
	ErrServerError = Code{"server_error", http.StatusInternalServerError}
	// ErrTemporarilyUnavailable: the storage backend cannot answer now (RFC 6749 §4.1.2.1).
	ErrTemporarilyUnavailable = Code{"temporarily_unavailable", http.StatusServiceUnavailable}
)

// As returns err as an *Error when it is one or wraps one, or is a Code
// (then a new *Error of it); ok is false otherwise.
func As(err error) (e *Error, ok bool) {
	if errors.As(err, &e) {
		return e, true
	}
	var c Code
	if errors.As(err, &c) {
		return c.New(), true
	}
	return nil, false
}

// WriteError answers e as a JSON error response (RFC 6749 §5.2) with the
// no-store headers, and Retry-After for a 503. Headers the caller set before
// (WWW-Authenticate) are kept.
func WriteError(w http.ResponseWriter, e *Error) {
	SetNoStore(w)
	SetRetryAfter(w, e)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e) // a failed write means the client went away
}

// RetryAfterSeconds is the Retry-After value of every 503 answer: how long a
// client should wait before trying again (RFC 9110 §10.2.3).
const RetryAfterSeconds = "5"

// SetRetryAfter sets Retry-After on a temporarily_unavailable (503) answer;
// it does nothing for other errors. Call it before WriteHeader.
func SetRetryAfter(w http.ResponseWriter, e *Error) {
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", RetryAfterSeconds)
	}
}

// SetNoStore sets the JSON content type and the no-store headers that every
// response carrying a token or an error needs (RFC 6749 §5.1, §5.2). Call it
// before WriteHeader.
func SetNoStore(w http.ResponseWriter) {
	// One array behind the three values, each capped at its length: the
	// response's own, so a handler wrapping this one may change them.
	v := make([]string, 3)
	v[0], v[1], v[2] = "application/json", "no-store", "no-cache"
	h := w.Header()
	h["Content-Type"] = v[0:1:1]
	h["Cache-Control"] = v[1:2:2]
	h["Pragma"] = v[2:3:3]
}
