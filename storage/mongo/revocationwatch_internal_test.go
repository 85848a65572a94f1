package mongo

import (
	"testing"
	"time"
)

// TestRevocationPollerDedup: a revocation read again by overlapping polls
// is delivered once, again only when its end moved later, and forgotten
// once its date has left the window, so memory stays bounded; another
// tenant's revocation of the same ids is another revocation.
func TestRevocationPollerDedup(t *testing.T) {
	t0 := time.Now()
	p := &revocationPoller{seen: map[string]seenRevocation{}}
	j := revokedDoc{JTI: "j", Family: "f", ExpiresAt: t0.Add(time.Hour), RevokedAt: t0}
	fam := revokedDoc{Family: "f", ExpiresAt: t0.Add(time.Hour), RevokedAt: t0}
	for i, c := range []struct {
		d    revokedDoc
		want bool
	}{
		{j, true}, {j, false}, {fam, true}, {fam, false},
		{revokedDoc{Family: "f", ExpiresAt: t0.Add(2 * time.Hour), RevokedAt: t0.Add(time.Second)}, true},
		{revokedDoc{Family: "f", ExpiresAt: t0.Add(time.Hour), RevokedAt: t0.Add(2 * time.Second)}, false},
		{revokedDoc{}, false},
		{revokedDoc{Tenant: "t2", JTI: "j", Family: "f", ExpiresAt: t0.Add(time.Hour), RevokedAt: t0}, true},
	} {
		n, ok := p.fresh(c.d)
		if ok != c.want {
			t.Fatalf("%d: %+v delivered %v, want %v", i, c.d, ok, c.want)
		}
		if ok && (n.tenant != c.d.Tenant || n.JTI != c.d.JTI || n.Family != c.d.Family || !n.Until.Equal(c.d.ExpiresAt)) {
			t.Fatalf("%d: notice %+v for %+v", i, n, c.d)
		}
	}
	p.moveTo(t0.Add(time.Second))
	if _, kept := p.seen["\x1ff\x1ff"]; !kept || len(p.seen) != 1 {
		t.Fatalf("after the window moved past the jti's date: %v", p.seen)
	}
	p.moveTo(t0.Add(3 * time.Second))
	if len(p.seen) != 0 {
		t.Fatalf("entries dated before the window kept: %v", p.seen)
	}
}
