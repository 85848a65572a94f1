package token_test

import (
	"context"
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
