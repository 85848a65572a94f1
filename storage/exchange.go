package storage

import "slices"

// ExchangePolicy is what an API accepts at the token-exchange grant (RFC
// 8693): which clients may exchange a token for one of the API's, which
// subject tokens they may present, and the scopes an exchanged token may
// carry at most. An API without one accepts no exchange.
type ExchangePolicy struct {
	// Clients are the client ids that may exchange for the API.
	Clients []string `json:"clients,omitempty" bson:"clients,omitempty"`
	// SubjectAudiences are the audiences a subject token must name one of
	// (the API the user's token was issued for).
	SubjectAudiences []string `json:"subject_audiences,omitempty" bson:"subject_audiences,omitempty"`
	// Issuers are the other issuers whose subject and actor tokens are
	// accepted, each verified by the verifier the server configures for it
	// (authz.Config.ExchangeIssuers). Empty: this server's tokens only.
	Issuers []string `json:"issuers,omitempty" bson:"issuers,omitempty"`
	// Scopes are the API's scopes an exchanged token may carry: the
	// allow-list, intersected with the subject token's scopes.
	Scopes []string `json:"scopes,omitempty" bson:"scopes,omitempty"`
}

// Clone returns a deep copy; nil stays nil.
func (p *ExchangePolicy) Clone() *ExchangePolicy {
	if p == nil {
		return nil
	}
	return &ExchangePolicy{
		Clients: slices.Clone(p.Clients), SubjectAudiences: slices.Clone(p.SubjectAudiences),
		Issuers: slices.Clone(p.Issuers), Scopes: slices.Clone(p.Scopes),
	}
}
