package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/integration/flows"
	"github.com/scopekit/scopekit/internal/testserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
	"github.com/scopekit/scopekit/storage/redis"
	"github.com/scopekit/scopekit/storage/storagetest"
	"github.com/scopekit/scopekit/token"
)

// drivers returns the Redis driver beside the memory driver, for
// benchmarks that compare them in one run.
func drivers(b *testing.B) map[string]storage.Store {
	srv := testserver.StartRedis(b)
	rs, err := redis.New(srv.Client(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return map[string]storage.Store{"memory": memory.New(), "redis": rs}
}

// BenchmarkStoreOps: each Redis operation here is one network round trip.
func BenchmarkStoreOps(b *testing.B) {
	ctx := context.Background()
	for name, s := range drivers(b) {
		must(b, s.Clients().Create(ctx, &storage.Client{ID: "svc", SecretHash: token.SecretHash("x"), GrantTypes: []string{"client_credentials"}}))
		must(b, s.APIs().Create(ctx, &storage.API{Identifier: "https://api", Scopes: []storage.Scope{{Name: "read"}}}))
		must(b, s.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "svc", Audience: "https://api", Scopes: []string{"read"}}))
		hour := time.Now().Add(time.Hour)
		b.Run(name+"/Resolve", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Resolve(ctx, "svc", "https://api"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/TokenRevoked", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.TokenRevoked(ctx, "fam", "fam.jti"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/ConsumeCode", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				h := fmt.Sprint("c", i)
				b.StopTimer()
				must(b, s.CreateCode(ctx, &storage.AuthCode{Hash: h, ExpiresAt: hour}))
				b.StartTimer()
				if _, err := s.ConsumeCode(ctx, h); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/RotateRefresh", func(b *testing.B) {
			must(b, s.CreateFamily(ctx, &storage.Family{ID: "f", ExpiresAt: hour}, &storage.RefreshToken{Hash: "t0", Family: "f", ExpiresAt: hour}))
			b.ReportAllocs()
			prev, i := "t0", 0
			for b.Loop() {
				i++
				next := fmt.Sprint("t", i)
				if _, err := s.RotateRefresh(ctx, "f", prev, &storage.RefreshToken{Hash: next, Family: "f", ExpiresAt: hour}); err != nil {
					b.Fatal(err)
				}
				prev = next
			}
		})
	}
}

// BenchmarkIssuer measures client-credentials issuance (one Resolve: one
// round trip on Redis) and introspection (one TokenRevoked: one round trip)
// through the issuer on each driver, RS256 signing included.
func BenchmarkIssuer(b *testing.B) {
	ctx := context.Background()
	for name, s := range drivers(b) {
		is := flows.NewIssuer(b, s)
		req := &authz.TokenRequest{GrantType: "client_credentials", ClientID: "svc", ClientSecret: is.Secret,
			AuthMethod: oauth.AuthBasic, Audience: "https://flows.example.com"}
		b.Run(name+"/Issue", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := is.Server.Issue(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
		resp, err := is.Server.Issue(ctx, req)
		must(b, err)
		b.Run(name+"/Introspect", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if in, err := is.Server.Introspect(ctx, resp.AccessToken); err != nil || !in.Active {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkListPage pages through directories of 10,000 and 100,000 users
// on Redis (storagetest.BenchmarkListPage): two round trips a page.
func BenchmarkListPage(b *testing.B) {
	srv := testserver.StartRedis(b)
	s, err := redis.New(srv.Client(), nil)
	must(b, err)
	storagetest.BenchmarkListPage(b, s, nil, func(b *testing.B, from, to int) { storagetest.SeedUsers(b, s, from, to) })
}
