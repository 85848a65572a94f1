package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client calls a protected MCP endpoint knowing only its URL and its own
// client credentials: everything else it discovers.
type Client struct {
	HTTP                   *http.Client
	ClientID, ClientSecret string
	// Log receives one line per step; nil discards them.
	Log io.Writer
}

// maxDoc bounds every document the client reads.
const maxDoc = 1 << 20

func (c *Client) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

// CallTool calls the tool name at the MCP endpoint and returns the text of
// its result.
func (c *Client) CallTool(ctx context.Context, endpoint, name string, args map[string]any) (string, error) {
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
		"params": map[string]any{"name": name, "arguments": args}})

	// 1. A bare call: 401 with the resource_metadata URL (RFC 9728 §5.1).
	resp, err := c.post(ctx, endpoint, body, "")
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return "", fmt.Errorf("bare call answered %d, want 401", resp.StatusCode)
	}
	metaURL := challengeParam(resp.Header.Get("WWW-Authenticate"), "resource_metadata")
	if metaURL == "" {
		return "", errors.New("the 401 names no resource_metadata")
	}
	c.logf("401 from %s; resource metadata at %s", endpoint, metaURL)

	// 2. The protected resource metadata; its resource must be the
	// endpoint the client called (RFC 9728 §3.3), else anyone's metadata
	// could send it to their authorization server.
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
	}
	if err := c.getJSON(ctx, metaURL, &prm); err != nil {
		return "", err
	}
	if prm.Resource != endpoint {
		return "", fmt.Errorf("metadata is for %q, not %q", prm.Resource, endpoint)
	}
	if len(prm.AuthorizationServers) == 0 {
		return "", errors.New("metadata names no authorization server")
	}
	issuer := prm.AuthorizationServers[0]
	c.logf("resource %s; authorization server %s; scopes %v", prm.Resource, issuer, prm.ScopesSupported)

	// 3. The authorization server's metadata (RFC 8414 §3), whose issuer
	// must be the one asked for (§3.3).
	asURL, err := asMetadataURL(issuer)
	if err != nil {
		return "", err
	}
	var asm struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := c.getJSON(ctx, asURL, &asm); err != nil {
		return "", err
	}
	if asm.Issuer != issuer || asm.TokenEndpoint == "" {
		return "", fmt.Errorf("authorization server metadata of %q is for %q", issuer, asm.Issuer)
	}
	c.logf("token endpoint %s", asm.TokenEndpoint)

	// 4. A token for this resource (client credentials, RFC 8707 resource).
	tok, err := c.token(ctx, asm.TokenEndpoint, prm.Resource, strings.Join(prm.ScopesSupported, " "))
	if err != nil {
		return "", err
	}
	c.logf("got a token for %s", prm.Resource)

	// 5. The call, with the token.
	resp, err = c.post(ctx, endpoint, body, tok)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("call answered %d: %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	var out struct {
		Result struct {
			Content []struct{ Text string } `json:"content"`
		} `json:"result"`
		Error *struct{ Message string } `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDoc)).Decode(&out); err != nil {
		return "", err
	}
	if out.Error != nil {
		return "", errors.New("tool error: " + out.Error.Message)
	}
	if len(out.Result.Content) == 0 {
		return "", errors.New("empty tool result")
	}
	return out.Result.Content[0].Text, nil
}

func (c *Client) post(ctx context.Context, u string, body []byte, bearer string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return c.HTTP.Do(req)
}

func (c *Client) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, maxDoc)).Decode(v)
}

func (c *Client) token(ctx context.Context, endpoint, resourceID, scope string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {resourceID}}
	if scope != "" {
		form.Set("scope", scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDoc)).Decode(&out); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		return "", fmt.Errorf("token endpoint: %d %s", resp.StatusCode, out.Error)
	}
	return out.AccessToken, nil
}

// asMetadataURL is the RFC 8414 §3.1 metadata URL of an issuer: the
// well-known segment between the host and the issuer's path.
func asMetadataURL(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("bad issuer %q", issuer)
	}
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.EscapedPath(), "/"), nil
}

// challengeParam returns the value of the auth-param name of a Bearer
// challenge (RFC 9110 §11.2): a token or a quoted-string with \-escapes.
// One linear pass.
func challengeParam(h, name string) string {
	rest, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return ""
	}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			return ""
		}
		key = strings.TrimSpace(key)
		var val strings.Builder
		if strings.HasPrefix(after, `"`) {
			i := 1
			for ; i < len(after) && after[i] != '"'; i++ {
				if after[i] == '\\' && i+1 < len(after) {
					i++
				}
				val.WriteByte(after[i])
			}
			if i >= len(after) {
				return ""
			}
			rest = after[i+1:]
		} else {
			end := strings.IndexByte(after, ',')
			if end < 0 {
				end = len(after)
			}
			val.WriteString(strings.TrimSpace(after[:end]))
			rest = after[end:]
		}
		if strings.EqualFold(key, name) {
			return val.String()
		}
	}
	return ""
}
