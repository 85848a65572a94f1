package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/scopekit/scopekit/authz/admin"
	"github.com/scopekit/scopekit/storage"
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

// readConfig reads the -config file. Unknown fields are refused with their
// path, so a misspelt field is never ignored silently, and a syntax error
// says where it is.
func readConfig(path string) (*fileConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c fileConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %s", path, describeJSONError(data, err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: unexpected data after the JSON object", path)
	}
	if len(c.APIs) == 0 {
		return nil, fmt.Errorf("%s: at least one API is required", path)
	}
	return &c, nil
}

// describeJSONError names where a JSON document is wrong: the line and
// column of a syntax or type error, the path of an unknown field.
func describeJSONError(data []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset-1) // Offset is just past the bad byte
		return fmt.Sprintf("line %d, column %d: %v", line, col, err)
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		return fmt.Sprintf("line %d, column %d: %s must be %v, not %s", line, col, typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := position(data, int64(len(data)))
		return fmt.Sprintf("line %d, column %d: unexpected end of the document", line, col)
	}
	// encoding/json reports an unknown field as: json: unknown field "x",
	// without saying in which element of an array it is.
	if strings.HasPrefix(err.Error(), "json: unknown field") {
		if p := unknownFieldPath(data, reflect.TypeFor[fileConfig]()); p != "" {
			return fmt.Sprintf("unknown field %q", p)
		}
	}
	return err.Error()
}

// position returns the 1-based line and column of a byte offset.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// loadAPIs creates the file's APIs through the admin layer, validated as
// any other. An API the store already has (a restart over a persistent
// store) is kept as stored.
func (c *fileConfig) loadAPIs(ctx context.Context, m *admin.Admin) error {
	for i, a := range c.APIs {
		api := &storage.API{Identifier: a.Identifier, Name: a.Name, Scopes: a.Scopes, SigningAlg: a.SigningAlg}
		if a.TokenLifetime != "" {
			d, err := time.ParseDuration(a.TokenLifetime)
			if err != nil {
				return fmt.Errorf("apis[%d] %s: token_lifetime: %w", i, a.Identifier, err)
			}
			api.TokenLifetime = d
		}
		if err := m.CreateAPI(ctx, api); err != nil && !errors.Is(err, storage.ErrDuplicate) {
			return fmt.Errorf("apis[%d] %s: %w", i, a.Identifier, err)
		}
	}
	return nil
}

// minSecretLen is the least length of a client secret given in the file
// (admin.MinSecretBytes).
const minSecretLen = admin.MinSecretBytes

// loadClients registers the file's clients and their client grants through
// the admin layer, which refuses a grant naming an unknown client, API or
// scope. A client without a secret in the file gets a generated one; a
// secret from the file must pass checkSecret and is set by
// admin.SetClientSecret, which bounds it. A client (or grant) the store
// already has is kept as stored, its secret untouched: created holds the
// secrets of the clients created now, kept the ids of the others.
func (c *fileConfig) loadClients(ctx context.Context, m *admin.Admin) (created map[string]string, kept []string, err error) {
	created = map[string]string{}
	for i, cl := range c.Clients {
		if cl.ID == "" {
			return nil, nil, fmt.Errorf("clients[%d]: client_id is required", i)
		}
		if cl.Secret != "" {
			if err := checkSecret(cl.Secret); err != nil {
				return nil, nil, fmt.Errorf("client %s: client_secret: %w", cl.ID, err)
			}
		}
		grants := cl.GrantTypes
		if len(grants) == 0 {
			grants = []string{"client_credentials"}
		}
		rec := &storage.Client{ID: cl.ID, Name: cl.Name, GrantTypes: grants, RedirectURIs: cl.RedirectURIs}
		secret, err := m.CreateClient(ctx, rec)
		if errors.Is(err, storage.ErrDuplicate) {
			kept = append(kept, cl.ID)
			continue
		}
		if err == nil && cl.Secret != "" {
			secret, err = cl.Secret, m.SetClientSecret(ctx, cl.ID, cl.Secret)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("client %s: %w", cl.ID, err)
		}
		created[cl.ID] = secret
	}
	for i := range c.ClientGrants {
		g := c.ClientGrants[i]
		if err := m.CreateClientGrant(ctx, &g); err != nil && !errors.Is(err, storage.ErrDuplicate) {
			return nil, nil, fmt.Errorf("client_grants[%d] %s: %w", i, g.ClientID, err)
		}
	}
	return created, kept, nil
}
