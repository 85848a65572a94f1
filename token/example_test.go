package token_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scopekit/scopekit/token"
)

func ExampleKey_Sign() {
	key, _ := token.GenerateKey(token.EdDSA)
	now := time.Now()
	at := token.AccessToken{
		Issuer: "https://auth.example.com/", Subject: "svc@clients", Audience: []string{"https://api.example.com"},
		ClientID: "svc", Scope: "read:users", JTI: token.Random(16), IssuedAt: now, ExpiresAt: now.Add(time.Hour),
	}
	payload, _ := at.AppendJSON(nil)
	raw, _ := key.Sign(token.TypeAccessToken, payload)

	v := &token.Verifier{
		Issuer: "https://auth.example.com/", Audience: "https://api.example.com",
		Algorithms: []string{token.EdDSA}, Keys: token.NewKeySet(key), Types: []string{token.TypeAccessToken},
	}
	claims, err := v.Verify(context.Background(), raw)
	fmt.Println(claims.Subject, claims.Scope, err)
	// Output: svc@clients read:users <nil>
}

func ExampleCheckSecret() {
	secret := token.NewSecret()        // shown once to the client's owner
	stored := token.SecretHash(secret) // all the store keeps
	fmt.Println(token.CheckSecret(stored, secret), token.CheckSecret(stored, "guess"))
	// Output: true false
}

// A verifier refuses a token past its exp (beyond the leeway), and one
// signed with an algorithm outside its allow-list, before any other check.
// The clock is fixed so that the outcome does not depend on when it runs.
func ExampleVerifier_Verify() {
	key, _ := token.GenerateKey(token.ES256)
	issued := time.Date(2030, 1, 2, 15, 0, 0, 0, time.UTC)
	at := token.AccessToken{
		Issuer: "https://auth.example.com/", Subject: "svc@clients", Audience: []string{"https://api.example.com"},
		ClientID: "svc", Scope: "read:users", JTI: "jti-1", IssuedAt: issued, ExpiresAt: issued.Add(time.Hour),
	}
	payload, _ := at.AppendJSON(nil)
	raw, _ := key.Sign(token.TypeAccessToken, payload)

	v := token.Verifier{
		Issuer: "https://auth.example.com/", Audience: "https://api.example.com",
		Algorithms: []string{token.ES256}, Keys: token.NewKeySet(key), Types: []string{token.TypeAccessToken},
		Now: func() time.Time { return issued.Add(30 * time.Minute) },
	}
	claims, err := v.Verify(context.Background(), raw)
	fmt.Println(claims.Scope, claims.ExpiresAt.UTC(), err)

	v.Now = func() time.Time { return issued.Add(2 * time.Hour) }
	_, err = v.Verify(context.Background(), raw)
	fmt.Println(errors.Is(err, token.ErrInvalid), err)

	v.Now, v.Algorithms = nil, []string{token.RS256}
	_, err = v.Verify(context.Background(), raw)
	fmt.Println(errors.Is(err, token.ErrInvalid), err)
	// Output:
	// read:users 2030-01-02 16:00:00 +0000 UTC <nil>
	// true token: expired
	// true token: algorithm not allowed
}
