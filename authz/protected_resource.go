package authz

import (
	"context"

	"github.com/scopekit/scopekit/authz/resource"
)

// ResourceMetadata returns the protected resource metadata (RFC 9728 §2) of
// the API audience as this server knows it: the API's identifier as the
// resource, this issuer as its authorization server, the API's scopes.
// Give it to resource.NewMetadataHandler, with any field the host adds.
func (s *Server) ResourceMetadata(ctx context.Context, audience string) (resource.Metadata, error) {
	api, err := s.store.APIs().Get(ctx, audience)
	if err != nil {
		return resource.Metadata{}, err
	}
	m := resource.Metadata{
		Resource:             api.Identifier,
		AuthorizationServers: []string{s.cfg.Issuer},
		ResourceName:         api.Name,
	}
	for _, sc := range api.Scopes {
		m.ScopesSupported = append(m.ScopesSupported, sc.Name)
	}
	return m, nil
}
