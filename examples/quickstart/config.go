package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// fileConfig is the JSON file read by -config. Its format is documented in
// the README.
type fileConfig struct {
	APIs []struct {
		Identifier    string          `json:"identifier"`
		Name          string          `json:"name"`
		Scopes        []storage.Scope `json:"scopes"`
		TokenLifetime string          `json:"token_lifetime"`
		SigningAlg    string          `json:"signing_alg"`
	} `json:"apis"`
	Clients []struct {
		ID           string   `json:"client_id"`
		Secret       string   `json:"client_secret"`
		Name         string   `json:"name"`
		GrantTypes   []string `json:"grant_types"`
		RedirectURIs []string `json:"redirect_uris"`
	} `json:"clients"`
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

// load writes the configuration into the store. Clients without a secret in
// the file get a generated one; the secrets are returned by client id.
func (c *fileConfig) load(ctx context.Context, store storage.Store) (map[string]string, error) {
	for _, a := range c.APIs {
		api := &storage.API{Identifier: a.Identifier, Name: a.Name, Scopes: a.Scopes, SigningAlg: a.SigningAlg}
		if a.TokenLifetime != "" {
			d, err := time.ParseDuration(a.TokenLifetime)
			if err != nil {
				return nil, fmt.Errorf("api %s: token_lifetime: %w", a.Identifier, err)
			}
			api.TokenLifetime = d
		}
		if api.SigningAlg != "" && !token.Supported(api.SigningAlg) {
			return nil, fmt.Errorf("api %s: unsupported signing_alg %q", a.Identifier, a.SigningAlg)
		}
		if err := store.APIs().Create(ctx, api); err != nil {
			return nil, fmt.Errorf("api %s: %w", a.Identifier, err)
		}
	}
	secrets := map[string]string{}
	for _, cl := range c.Clients {
		secret := cl.Secret
		if secret == "" {
			secret = token.NewSecret()
		}
		grants := cl.GrantTypes
		if len(grants) == 0 {
			grants = []string{"client_credentials"}
		}
		rec := &storage.Client{ID: cl.ID, Name: cl.Name, SecretHash: token.SecretHash(secret),
			GrantTypes: grants, RedirectURIs: cl.RedirectURIs, CreatedAt: time.Now().UTC()}
		if err := store.Clients().Create(ctx, rec); err != nil {
			return nil, fmt.Errorf("client %s: %w", cl.ID, err)
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
