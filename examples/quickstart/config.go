package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// fileConfig is the JSON file read by -config. Its format is documented in
// the README.
type fileConfig struct {
	// APIs are the resource servers; the first is the default audience.
	APIs []struct {
		Identifier    string          `json:"identifier"`
		Name          string          `json:"name"`
		Scopes        []storage.Scope `json:"scopes"`
		TokenLifetime string          `json:"token_lifetime"`
		SigningAlg    string          `json:"signing_alg"`
	} `json:"apis"`
	// Clients are machine clients; a missing secret is generated.
	Clients []struct {
		ID           string   `json:"client_id"`
		Secret       string   `json:"client_secret"`
		Name         string   `json:"name"`
		GrantTypes   []string `json:"grant_types"`
		RedirectURIs []string `json:"redirect_uris"`
	} `json:"clients"`
	// ClientGrants say which scopes of which API each client may receive.
	ClientGrants []storage.ClientGrant `json:"client_grants"`
}

// demoConfig is the story of the quickstart: an API "users" with two scopes
// and a machine client allowed to read only.
func demoConfig() *fileConfig {
	var c fileConfig
	if err := json.Unmarshal([]byte(`{
	  "apis": [{"identifier": "https://users.example.com", "name": "users",
	            "scopes": [{"name": "read:users", "description": "Read user information"},
	                       {"name": "write:users", "description": "Create and update users"}]}],
	  "clients": [{"client_id": "reporting-service", "name": "Reporting service",
	               "grant_types": ["client_credentials"]}],
	  "client_grants": [{"client_id": "reporting-service", "audience": "https://users.example.com",
	                     "scope": ["read:users"]}]
	}`), &c); err != nil {
		panic(err) // a constant document: a failure is a bug here
	}
	return &c
}

func readConfig(path string) (*fileConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c fileConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(c.APIs) == 0 {
		return nil, fmt.Errorf("%s: at least one API is required", path)
	}
	return &c, nil
}

// minSecretLen is the least length of a client secret given in the file:
// 32 characters, as many as 192 bits of base64url (generated secrets have
// 43, for 256 bits). A secret is compared as a fast hash, so it must be
// random and long, never a password (see docs/ARCHITECTURE.md).
const minSecretLen = 32

// loadAPIs writes the file's APIs into the store.
func (c *fileConfig) loadAPIs(ctx context.Context, store storage.Store) error {
	for _, a := range c.APIs {
		api := &storage.API{Identifier: a.Identifier, Name: a.Name, Scopes: a.Scopes, SigningAlg: a.SigningAlg}
		if a.TokenLifetime != "" {
			d, err := time.ParseDuration(a.TokenLifetime)
			if err != nil {
				return fmt.Errorf("api %s: token_lifetime: %w", a.Identifier, err)
			}
			api.TokenLifetime = d
		}
		if api.SigningAlg != "" && !token.Supported(api.SigningAlg) {
			return fmt.Errorf("api %s: unsupported signing_alg %q", a.Identifier, a.SigningAlg)
		}
		if err := store.APIs().Create(ctx, api); err != nil {
			return fmt.Errorf("api %s: %w", a.Identifier, err)
		}
	}
	return nil
}

// loadClients registers the file's clients through Server.CreateClient, so
// they get the same validation as any other, and their client grants.
// A client without a secret in the file keeps the generated one; a secret
// from the file must be at least minSecretLen characters. The secrets are
// returned by client id.
func (c *fileConfig) loadClients(ctx context.Context, srv *authz.Server) (map[string]string, error) {
	store := srv.Store()
	secrets := map[string]string{}
	for _, cl := range c.Clients {
		if cl.ID == "" {
			return nil, errors.New("client: client_id is required")
		}
		if cl.Secret != "" && len(cl.Secret) < minSecretLen {
			return nil, fmt.Errorf("client %s: client_secret must be at least %d characters of random data (it has %d); leave it out to get a generated one",
				cl.ID, minSecretLen, len(cl.Secret))
		}
		grants := cl.GrantTypes
		if len(grants) == 0 {
			grants = []string{"client_credentials"}
		}
		rec := &storage.Client{ID: cl.ID, Name: cl.Name, GrantTypes: grants, RedirectURIs: cl.RedirectURIs}
		secret, err := srv.CreateClient(ctx, rec)
		if err != nil {
			return nil, fmt.Errorf("client %s: %w", cl.ID, err)
		}
		if cl.Secret != "" {
			secret = cl.Secret
			rec.SecretHash = token.SecretHash(secret)
			if err := store.Clients().Update(ctx, rec); err != nil {
				return nil, fmt.Errorf("client %s: %w", cl.ID, err)
			}
		}
		secrets[cl.ID] = secret
	}
	for i := range c.ClientGrants {
		if err := store.ClientGrants().Create(ctx, &c.ClientGrants[i]); err != nil {
			return nil, fmt.Errorf("client grant %s: %w", c.ClientGrants[i].ClientID, err)
		}
	}
	return secrets, nil
}
