package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// DefaultDPoPNoncePeriod is how long a server-provided DPoP nonce is
// current; the one before stays accepted for another period.
const DefaultDPoPNoncePeriod = 5 * time.Minute

// DPoPNonces makes and checks server-provided DPoP nonces (RFC 9449 §8)
// without state: a nonce is the HMAC-SHA-256, under a server secret, of the
// index of the clock's current period. Replicas sharing the secret accept
// each other's nonces. A nonce is accepted during its period and the next,
// so a client that just got one never sees it refused at a rotation.
type DPoPNonces struct {
	secret []byte
	period time.Duration
	now    func() time.Time
}

// NewDPoPNonces returns nonces under secret (at least 32 bytes, else nil),
// rotating every period (zero: DefaultDPoPNoncePeriod) on the clock now
// (nil: time.Now).
func NewDPoPNonces(secret []byte, period time.Duration, now func() time.Time) *DPoPNonces {
	if len(secret) < 32 {
		return nil
	}
	if period <= 0 {
		period = DefaultDPoPNoncePeriod
	}
	if now == nil {
		now = time.Now
	}
	return &DPoPNonces{secret: append([]byte(nil), secret...), period: period, now: now}
}

// Current returns the nonce of the current period.
func (n *DPoPNonces) Current() string { return n.at(n.window()) }

// Valid reports whether nonce is the current period's or the previous one's.
func (n *DPoPNonces) Valid(nonce string) bool {
	if nonce == "" || len(nonce) > 64 {
		return false
	}
	w := n.window()
	return hmac.Equal([]byte(nonce), []byte(n.at(w))) || hmac.Equal([]byte(nonce), []byte(n.at(w-1)))
}

func (n *DPoPNonces) window() int64 { return n.now().UnixNano() / int64(n.period) }

func (n *DPoPNonces) at(window int64) string {
	m := hmac.New(sha256.New, n.secret)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(window))
	m.Write([]byte("dpop-nonce"))
	m.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}
