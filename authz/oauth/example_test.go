package oauth_test

import (
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/scopekit/scopekit/authz/oauth"
)

// A scope parameter is split on spaces, repeats dropped and the first order
// kept; a token outside RFC 6749 §3.3's characters is invalid_scope.
func ExampleParseScope() {
	scopes, err := oauth.ParseScope("read:users write:users read:users")
	fmt.Println(scopes, err)
	fmt.Println(oauth.FormatScope(scopes))
	_, err = oauth.ParseScope(`read:users "quoted"`)
	fmt.Println(errors.Is(err, oauth.ErrInvalidScope))
	// Output:
	// [read:users write:users] <nil>
	// read:users write:users
	// true
}

// Errors are built from the immutable codes and compared with errors.Is,
// which matches by code: a described copy, or one wrapped with an internal
// cause, still is its code. The cause is for logs; the response shows the
// code and the description only.
func ExampleCode_WithDescription() {
	err := fmt.Errorf("exchange: %w", oauth.ErrInvalidGrant.WithDescription("the code was already used"))
	fmt.Println(errors.Is(err, oauth.ErrInvalidGrant), errors.Is(err, oauth.ErrInvalidClient))

	e, _ := oauth.As(err)
	fmt.Println(e.Code, e.Status, e.Description)

	w := httptest.NewRecorder()
	oauth.WriteError(w, oauth.ErrServerError.WithCause(errors.New("redis: connection refused")))
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// true false
	// invalid_grant 400 the code was already used
	// 500 {"error":"server_error"}
}

// The client keeps the code_verifier and sends its S256 challenge with the
// authorization request; the issuer checks the verifier the token request
// brings against the stored challenge (RFC 7636 §4.6).
func ExampleVerifyPKCE() {
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 Appendix B
	challenge := oauth.S256Challenge(verifier)
	fmt.Println(challenge)
	fmt.Println(oauth.VerifyPKCE(challenge, verifier), oauth.VerifyPKCE(challenge, "another-verifier-of-forty-three-characters-xx"))
	// Output:
	// E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
	// true false
}
