package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/authz/resource"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/storage/memory"
)

// agentID is the machine client of the walk-through.
const agentID = "mcp-agent"

// toolScope is the scope a tools/call needs.
const toolScope = "tools:call"

// app is the issuer at the root and the MCP endpoint at /mcp, one process.
type app struct {
	handler http.Handler
	mcpURL  string
	secret  string
}

// newApp builds the issuer at base + "/" and the API whose resource
// identifier is base + "/mcp", its audience.
func newApp(ctx context.Context, base string) (*app, error) {
	mcpURL := base + "/mcp"
	store := memory.New()
	srv, err := authz.New(ctx, authz.Config{
		Issuer: base + "/",
		Store:  store,
		Grants: []authz.Grant{grant.ClientCredentials{}},
	})
	if err != nil {
		return nil, err
	}
	if err := store.APIs().Create(ctx, &storage.API{Identifier: mcpURL, Name: "Calculator tools",
		Scopes: []storage.Scope{{Name: toolScope, Description: "Call the tools"}}}); err != nil {
		return nil, err
	}
	secret, err := srv.CreateClient(ctx, &storage.Client{ID: agentID, Name: "Agent", GrantTypes: []string{"client_credentials"}})
	if err != nil {
		return nil, err
	}
	if err := store.ClientGrants().Create(ctx, &storage.ClientGrant{ClientID: agentID, Audience: mcpURL, Scopes: []string{toolScope}}); err != nil {
		return nil, err
	}
	meta, err := srv.ResourceMetadata(ctx, mcpURL)
	if err != nil {
		return nil, err
	}
	mh, err := resource.NewMetadataHandler(meta)
	if err != nil {
		return nil, err
	}
	rs := srv.Authorizer(mcpURL).WithMetadata(mh)

	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mh.Register(mux)
	mux.Handle("POST /mcp", rs.RequireScopes(toolScope)(http.HandlerFunc(serveMCP)))
	return &app{handler: mux, mcpURL: mcpURL, secret: secret}, nil
}

// rpcRequest is a JSON-RPC 2.0 request.
type rpcRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  struct {
		Name      string             `json:"name"`
		Arguments map[string]float64 `json:"arguments"`
	} `json:"params"`
}

// rpcError is a JSON-RPC 2.0 error object.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// maxRPCBody bounds a request body.
const maxRPCBody = 64 << 10

// serveMCP answers tools/list and tools/call of the one tool, add.
func serveMCP(w http.ResponseWriter, r *http.Request) {
	var req rpcRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRPCBody))
	if err := dec.Decode(&req); err != nil || req.JSONRPC != "2.0" {
		writeRPC(w, nil, nil, &rpcError{-32700, "parse error"})
		return
	}
	switch req.Method {
	case "tools/list":
		writeRPC(w, req.ID, map[string]any{"tools": []map[string]any{{
			"name": "add", "description": "Adds a and b",
			"inputSchema": map[string]any{"type": "object", "properties": map[string]any{
				"a": map[string]string{"type": "number"}, "b": map[string]string{"type": "number"}}},
		}}}, nil)
	case "tools/call":
		sum, err := add(req.Params.Name, req.Params.Arguments)
		if err != nil {
			writeRPC(w, req.ID, nil, &rpcError{-32602, err.Error()})
			return
		}
		text, _ := json.Marshal(sum)
		writeRPC(w, req.ID, map[string]any{"content": []map[string]string{{"type": "text", "text": string(text)}}}, nil)
	default:
		writeRPC(w, req.ID, nil, &rpcError{-32601, "method not found"})
	}
}

// add is the tool.
func add(name string, args map[string]float64) (float64, error) {
	if name != "add" {
		return 0, errors.New("unknown tool")
	}
	a, okA := args["a"]
	b, okB := args["b"]
	if !okA || !okB {
		return 0, errors.New("add needs a and b")
	}
	return a + b, nil
}

func writeRPC(w http.ResponseWriter, id json.RawMessage, result any, e *rpcError) {
	if id == nil {
		id = json.RawMessage("null")
	}
	resp := map[string]any{"jsonrpc": "2.0", "id": id}
	if e != nil {
		resp["error"] = e
	} else {
		resp["result"] = result
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}
