package resource

import (
	"fmt"
	"testing"
	"time"
)

func principalFor(jti string, exp time.Time) *Principal {
	return &Principal{Subject: "s", ClientID: "c", Scope: "read", Audience: []string{"api"}, JTI: jti,
		ExpiresAt: exp, Claims: map[string]any{"jti": jti}}
}

func TestVerifiedCacheBound(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	for _, max := range []int{1, 3, 10, 100} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			c := NewCache(max)
			for i := 0; i < 5*max+7; i++ {
				raw := fmt.Sprint("token-", i)
				c.put(raw, "kid", principalFor(raw, exp), 0)
				if n := c.Len(); n > max {
					t.Fatalf("%d entries in a cache of %d", n, max)
				}
				if c.get(raw, time.Now()) == nil {
					t.Fatalf("the token just put is not cached")
				}
			}
		})
	}
}

func TestVerifiedCacheEntries(t *testing.T) {
	now := time.Now()
	exp := now.Add(time.Minute)
	c := NewCache(10)
	c.put("a", "k1", principalFor("a", exp), 0)
	c.put("b", "k2", principalFor("b", exp), 0)
	c.put("c", "k1", principalFor("c", exp), 0)
	t.Run("valid until exp", func(t *testing.T) {
		if c.get("a", exp.Add(-time.Nanosecond)) == nil {
			t.Fatal("not served before exp")
		}
		if c.get("a", exp) != nil || c.get("a", exp.Add(time.Hour)) != nil {
			t.Fatal("served at or after exp")
		}
	})
	t.Run("forget one", func(t *testing.T) {
		c.Forget("b")
		if c.get("b", now) != nil || c.get("a", now) == nil {
			t.Fatal("forget dropped the wrong entry")
		}
		c.put("b", "k2", principalFor("b", exp), 0)
	})
	t.Run("forget by key", func(t *testing.T) {
		c.ForgetKey("k1")
		if c.get("a", now) != nil || c.get("c", now) != nil || c.get("b", now) == nil {
			t.Fatal("forgetKey dropped the wrong entries")
		}
	})
	t.Run("forget all", func(t *testing.T) {
		c.Forget("")
		if c.Len() != 0 {
			t.Fatalf("%d entries left", c.Len())
		}
	})
	t.Run("tamper check", func(t *testing.T) {
		p := principalFor("d", exp)
		c.put("d", "k", p, 0)
		e := c.get("d", now)
		if e == nil || !e.intact() {
			t.Fatal("fresh entry not intact")
		}
		p.Audience[0] = "other"
		if e.intact() {
			t.Fatal("a modified audience went unnoticed")
		}
		if e.audience[0] != "api" {
			t.Fatal("the entry shares the principal's audience array")
		}
	})
	t.Run("disabled", func(t *testing.T) {
		off := NewCache(-1)
		if off != nil {
			t.Fatal("a negative size did not disable the cache")
		}
		off.put("x", "k", principalFor("x", exp), 0)
		if off.get("x", now) != nil || off.Len() != 0 {
			t.Fatal("a disabled cache served an entry")
		}
		off.Forget("x")
		off.ForgetKey("k")
	})
}
