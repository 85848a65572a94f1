//go:build scopekit_testhooks

package mongo_test

import (
	"context"
	"testing"

	"github.com/scopekit/scopekit/integration/mongoserver"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/mongo"
)

// TestResolveFollowsClaims: when the document writes of updates to the
// client, the API and the client grant fail after their claims (the server
// went away between the two), Resolve, which reads the three records'
// claims in one find, still returns every record as of its last update,
// for this tenant only.
func TestResolveFollowsClaims(t *testing.T) {
	srv := mongoserver.StartMongo(t)
	ctx := context.Background()
	db := srv.Database(t)
	s, err := mongo.New(db, nil)
	must(t, err)
	other, err := mongo.New(db, &mongo.Options{Tenant: "other"})
	must(t, err)
	c := &storage.Client{ID: "svc", Name: "v1"}
	a := &storage.API{Identifier: "https://api", Name: "v1"}
	g := &storage.ClientGrant{ClientID: "svc", Audience: "https://api", Scopes: []string{"read"}}
	for _, st := range []*mongo.Store{s, other} {
		must(t, st.Clients().Create(ctx, &storage.Client{ID: "svc", Name: "v1"}))
		must(t, st.APIs().Create(ctx, &storage.API{Identifier: "https://api", Name: "v1"}))
		must(t, st.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: "svc", Audience: "https://api", Scopes: []string{"read"}}))
	}
	must(t, s.Clients().Create(ctx, &storage.Client{ID: "svc2", Name: "prefix of nothing"})) // a key sharing svc's prefix
	res, err := s.Resolve(ctx, "svc", "https://api")
	must(t, err)
	c.Revision, a.Revision, g.Revision = res.Client.Revision, res.API.Revision, res.Grant.Revision
	mongo.FailAfterClaim(s, "rev", storage.ErrUnavailable)
	c.Name, a.Name, g.Scopes = "v2", "v2", []string{"read", "write"}
	must(t, s.Clients().Update(ctx, c))
	must(t, s.APIs().Update(ctx, a))
	must(t, s.ClientGrants().Update(ctx, g))
	c.Name = "v3"
	must(t, s.Clients().Update(ctx, c))
	mongo.FailAfterClaim(s, "", nil)
	res, err = s.Resolve(ctx, "svc", "https://api")
	must(t, err)
	if res.Client.Name != "v3" || res.API.Name != "v2" || len(res.Grant.Scopes) != 2 {
		t.Fatalf("Resolve behind its claims: client %q, API %q, grant %v", res.Client.Name, res.API.Name, res.Grant.Scopes)
	}
	if res.Client.Revision != c.Revision {
		t.Fatalf("client revision %d, want %d", res.Client.Revision, c.Revision)
	}
	res, err = other.Resolve(ctx, "svc", "https://api")
	must(t, err)
	if res.Client.Name != "v1" || res.API.Name != "v1" || len(res.Grant.Scopes) != 1 {
		t.Fatalf("another tenant's claims followed: %+v %+v %+v", res.Client, res.API, res.Grant)
	}
	if res, err := s.Resolve(ctx, "nobody", "https://none"); err != nil || res.Client != nil || res.API != nil || res.Grant != nil {
		t.Fatalf("Resolve of absent records: %+v %v", res, err)
	}
}
