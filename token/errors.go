package token

import "errors"

// ErrInvalid is wrapped by every verification failure of a token.
var ErrInvalid = errors.New("token: invalid token")

// Verification failures; each also matches ErrInvalid with errors.Is.
var (
	// ErrMalformed: not a compact JWS with a JSON header and payload.
	ErrMalformed = invalid("token: malformed token")
	// ErrTooLarge: the token exceeds the verifier's size bound.
	ErrTooLarge = invalid("token: token too large")
	// ErrAlgorithm: the header's alg is not in the allow-list (or is none/HMAC), or differs from the key's.
	ErrAlgorithm = invalid("token: algorithm not allowed")
	// ErrUnknownKey: no key has the header's kid.
	ErrUnknownKey = invalid("token: unknown key")
	// ErrSignature: the signature does not verify.
	ErrSignature = invalid("token: invalid signature")
	// ErrExpired: exp is missing or in the past.
	ErrExpired = invalid("token: expired")
	// ErrNotYetValid: nbf or iat is in the future.
	ErrNotYetValid = invalid("token: not valid yet")
	// ErrIssuer: iss is not the expected issuer.
	ErrIssuer = invalid("token: wrong issuer")
	// ErrAudience: aud does not contain the expected audience.
	ErrAudience = invalid("token: wrong audience")
	// ErrType: the typ header is not an accepted type.
	ErrType = invalid("token: wrong type")
)

var (
	// ErrNoKey: no active signing key for the algorithm (server misconfiguration).
	ErrNoKey = errors.New("token: no signing key for algorithm")
	// ErrConfig: the verifier lacks its issuer, audience, algorithms or keys.
	ErrConfig = errors.New("token: verifier is not configured")
	// ErrKeysUnavailable: a remote issuer's keys (its discovery document or
	// JWKS) could not be fetched, so the token can be neither accepted nor
	// refused; it is not a verification failure (RemoteKeys).
	ErrKeysUnavailable = errors.New("token: the issuer's keys cannot be fetched")
)

// invalidError is a verification failure that matches ErrInvalid too.
type invalidError struct{ msg string }

func invalid(msg string) error { return &invalidError{msg} }

// Error implements error.
func (e *invalidError) Error() string { return e.msg }

// Is makes every verification failure match ErrInvalid.
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }
