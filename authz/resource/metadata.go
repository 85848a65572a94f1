package resource

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// WellKnownMetadataPath is the well-known URI suffix of protected resource
// metadata (RFC 9728 §3).
const WellKnownMetadataPath = "/.well-known/oauth-protected-resource"

// Metadata is the protected resource metadata of an API (RFC 9728 §2): what
// a client needs to find the authorization server and ask it for a token
// for this resource. Empty fields are omitted from the document.
type Metadata struct {
	// Resource is the resource identifier (RFC 9728 §1.2): an http(s) URL
	// without query or fragment, the API's audience, which clients send as
	// the RFC 8707 resource parameter. Required.
	Resource string `json:"resource"`
	// AuthorizationServers are the issuer identifiers of the authorization
	// servers whose tokens the resource accepts (RFC 8414 issuers).
	AuthorizationServers []string `json:"authorization_servers,omitempty"`
	// ScopesSupported are the scopes the resource uses in requests for
	// access.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// BearerMethodsSupported are the RFC 6750 ways to send a token; empty
	// means ["header"], the one the middleware asks for.
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	// ResourceSigningAlgValuesSupported are the JWS algorithms the resource
	// signs its responses with, when it does.
	ResourceSigningAlgValuesSupported []string `json:"resource_signing_alg_values_supported,omitempty"`
	// ResourceName is a human-readable name of the resource.
	ResourceName string `json:"resource_name,omitempty"`
	// ResourceDocumentation is the URL of the resource's documentation for
	// developers.
	ResourceDocumentation string `json:"resource_documentation,omitempty"`
	// DPoPSigningAlgValuesSupported are the JWS algorithms of DPoP proofs
	// the resource accepts (RFC 9728 §2, RFC 9449); set it only where the
	// resource verifies DPoP-bound tokens.
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// DPoPBoundAccessTokensRequired says the resource accepts DPoP-bound
	// tokens only (RFC 9728 §2); set it only where it does.
	DPoPBoundAccessTokensRequired bool `json:"dpop_bound_access_tokens_required,omitempty"`
}

// MetadataHandler serves one resource's metadata document at its
// well-known locations: the one RFC 9728 §3.1 derives from the resource
// identifier (WellKnownMetadataPath followed by the identifier's path) and,
// for an identifier with a path, the bare WellKnownMetadataPath too, for a
// host that serves a single resource. The document is encoded once; the
// handler is immutable and safe for concurrent use.
type MetadataHandler struct {
	doc   []byte
	url   string
	paths []string
}

// NewMetadataHandler validates m and returns its handler. The document is
// m as given, with BearerMethodsSupported ["header"] when empty.
func NewMetadataHandler(m Metadata) (*MetadataHandler, error) {
	u, err := url.Parse(m.Resource)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(m.Resource, "\"\\#?") {
		return nil, errors.New("resource: Metadata.Resource must be an http(s) URL without userinfo, query or fragment (RFC 9728 §1.2)")
	}
	for _, as := range m.AuthorizationServers {
		if a, err := url.Parse(as); err != nil || (a.Scheme != "https" && a.Scheme != "http") || a.Host == "" {
			return nil, errors.New("resource: Metadata.AuthorizationServers must be http(s) issuer identifiers")
		}
	}
	if len(m.BearerMethodsSupported) == 0 {
		m.BearerMethodsSupported = []string{"header"}
	}
	doc, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	h := &MetadataHandler{
		doc:   doc,
		url:   u.Scheme + "://" + u.Host + WellKnownMetadataPath + path,
		paths: []string{WellKnownMetadataPath + path},
	}
	if path != "" {
		h.paths = append(h.paths, WellKnownMetadataPath)
	}
	return h, nil
}

// URL is the metadata URL of the resource (RFC 9728 §3.1), the value of
// resource_metadata in its challenges (Authorizer.WithMetadata).
func (h *MetadataHandler) URL() string { return h.url }

// Paths are the request paths the handler answers, to mount it at.
func (h *MetadataHandler) Paths() []string { return slices.Clone(h.paths) }

// Register mounts the handler on mux at each of its Paths.
func (h *MetadataHandler) Register(mux *http.ServeMux) {
	for _, p := range h.paths {
		mux.Handle(p, h)
	}
}

// ServeHTTP answers GET and HEAD at the handler's paths with the JSON
// document, readable from any origin (it is public); other paths are 404.
func (h *MetadataHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !slices.Contains(h.paths, r.URL.EscapedPath()) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "public, max-age=3600")
	hd.Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(h.doc)
}

// WithMetadata returns a copy of the authorizer whose WWW-Authenticate
// challenges carry resource_metadata with the handler's URL (RFC 9728
// §5.1), so that a client starting from a bare 401 finds the metadata, and
// from it the authorization server. The receiver is unchanged.
func (a *Authorizer) WithMetadata(h *MetadataHandler) *Authorizer {
	c := *a
	c.metadataURL = h.url
	return &c
}
