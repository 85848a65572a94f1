package admin

import (
	"fmt"

	"github.com/scopekit/scopekit/storage"
)

// checkExchangePolicy checks an API's token-exchange policy: bounded lists
// of client ids, subject audiences and issuers (absolute URIs), and scopes
// the API itself defines.
func (c *checker) checkExchangePolicy(a *storage.API) {
	p := a.TokenExchange
	if p == nil {
		return
	}
	lists := []struct {
		field string
		items []string
		check func(field, v string)
	}{
		{"token_exchange.clients", p.Clients, c.checkID},
		{"token_exchange.subject_audiences", p.SubjectAudiences, c.checkAbsoluteURI},
		{"token_exchange.issuers", p.Issuers, c.checkAbsoluteURI},
		{"token_exchange.scopes", p.Scopes, func(field, s string) {
			if c.checkScopeName(field, s) && !a.HasScope(s) {
				c.bad(field, "scope %q is not defined by the API", s)
			}
		}},
	}
	for _, l := range lists {
		if !c.checkCount(l.field, len(l.items), MaxListItems) {
			continue
		}
		for i, v := range l.items {
			l.check(fmt.Sprintf("%s[%d]", l.field, i), v)
		}
		c.unique(l.field, l.items)
	}
}
