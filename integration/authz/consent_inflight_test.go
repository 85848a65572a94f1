package authz_test

import (
	"context"
	"testing"

	"golang.org/x/oauth2"
)

// TestCodeExchangeAfterConsentWithdrawn: a code issued before RevokeConsent
// and exchanged after it is invalid_grant, so no family is created for a
// grant the user withdrew while the code was in flight.
func TestCodeExchangeAfterConsentWithdrawn(t *testing.T) {
	f := newUserFixture(t, noRetries)
	b := f.browser(t)
	b.login(f, "alice")
	ctx := context.Background()
	code, v := f.codeFor(t, b, true, "read:balance", "offline_access")
	must(t, f.srv.RevokeConsent(ctx, "alice", "bank-app", bankUserAPI))
	if _, err := f.oauth("bank-app").Exchange(ctx, code, oauth2.VerifierOption(v)); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("exchange after the consent was withdrawn: %v, want invalid_grant", err)
	}
	fams, err := f.store.ListFamilies(ctx, "alice")
	must(t, err)
	for _, fam := range fams {
		if fam.ClientID == "bank-app" && !fam.Revoked {
			t.Fatalf("a live family %s was created for the withdrawn grant", fam.ID)
		}
	}
}
