package authz

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/scopekit/scopekit/storage"
	"github.com/scopekit/scopekit/token"
)

// Back-channel logout (OIDC Back-Channel Logout 1.0): when an OP session
// ends, each of its clients with a backchannel_logout_uri is sent a logout
// token. Deliveries run on one background goroutine, never on the logout
// request: a queue of at most maxLogoutQueue deliveries (a logout that
// finds it full drops the delivery and logs it), each tried at most
// logoutAttempts times, again after logoutBackoff, 2×, 4×… on a network
// error, a 5xx or a 429. The schedule is judged by Config.Now, checked
// every logoutPoll. Server.Close stops it; undelivered tokens are dropped.
const (
	// TypeLogoutToken is the typ of logout tokens (§2.4).
	TypeLogoutToken = "logout+jwt"
	// BackchannelLogoutEvent is the event a logout token carries (§2.4).
	BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

	maxLogoutQueue         = 1024
	logoutAttempts         = 5
	logoutBackoff          = time.Second
	logoutPoll             = 50 * time.Millisecond
	logoutTokenLifetime    = 2 * time.Minute
	maxBackchannelURIBytes = 2 << 10
)

// checkBackchannelURI checks a backchannel_logout_uri: an absolute https
// URL without user info or fragment (§2.2), of at most 2 KiB.
func checkBackchannelURI(uri string) error {
	u, err := url.Parse(uri)
	if err != nil || len(uri) > maxBackchannelURIBytes || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("authz: backchannel_logout_uri must be an absolute https URL without user info or fragment, of at most 2 KiB")
	}
	return nil
}

// logoutDelivery is one logout token to deliver.
type logoutDelivery struct {
	uri, clientID, alg string
	sub, sid, jti      string
	attempts           int
	due                time.Time
}

// backchannel delivers logout tokens in the background.
type backchannel struct {
	s     *Server
	queue chan *logoutDelivery
	start sync.Once
	stop  context.CancelFunc
	done  chan struct{}
	ctx   context.Context
}

func newBackchannel(s *Server) *backchannel {
	ctx, cancel := context.WithCancel(context.Background())
	return &backchannel{s: s, queue: make(chan *logoutDelivery, maxLogoutQueue), ctx: ctx, stop: cancel, done: make(chan struct{})}
}

// enqueue schedules a logout token for the client; it never blocks.
func (b *backchannel) enqueue(c *storage.Client, sub, sid string) {
	if b.ctx.Err() != nil {
		return
	}
	b.start.Do(func() { go b.run() })
	d := &logoutDelivery{uri: c.BackchannelLogoutURI, clientID: c.ID, alg: idTokenAlg(c), sub: sub, sid: sid, jti: token.Random(16)}
	select {
	case b.queue <- d:
	default:
		b.s.cfg.Logger.Warn("back-channel logout queue full: logout token dropped", "client_id", c.ID)
	}
}

// close stops the deliveries and waits for the goroutine.
func (b *backchannel) close() {
	b.stop()
	started := true
	b.start.Do(func() { started = false })
	if started {
		<-b.done
	}
}

func (b *backchannel) run() {
	defer close(b.done)
	tick := time.NewTicker(logoutPoll)
	defer tick.Stop()
	var pending []*logoutDelivery
	for {
		queue := b.queue
		if len(pending) >= maxLogoutQueue {
			queue = nil
		}
		select {
		case <-b.ctx.Done():
			return
		case d := <-queue:
			d.due = b.s.cfg.Now()
			pending = append(pending, d)
		case <-tick.C:
		}
		pending = b.deliverDue(pending)
	}
}

// deliverDue tries the deliveries that are due and returns those left.
func (b *backchannel) deliverDue(pending []*logoutDelivery) []*logoutDelivery {
	kept := pending[:0]
	for _, d := range pending {
		now := b.s.cfg.Now()
		if now.Before(d.due) || b.ctx.Err() != nil {
			kept = append(kept, d)
			continue
		}
		d.attempts++
		retry, err := b.deliver(d, now)
		if err == nil {
			continue
		}
		if !retry || d.attempts >= logoutAttempts {
			b.s.cfg.Logger.Warn("back-channel logout not delivered", "client_id", d.clientID, "attempts", d.attempts, "error", err)
			continue
		}
		d.due = now.Add(logoutBackoff << (d.attempts - 1))
		kept = append(kept, d)
	}
	return kept
}

// deliver POSTs one logout token (§2.5) and reports whether a failure is
// worth retrying.
func (b *backchannel) deliver(d *logoutDelivery, now time.Time) (retry bool, err error) {
	raw, err := b.s.logoutToken(b.ctx, d, now)
	if err != nil {
		return true, err
	}
	ctx, cancel := context.WithTimeout(b.ctx, b.s.cfg.LogoutClient.Timeout+time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.uri, strings.NewReader(url.Values{"logout_token": {raw}}.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.s.cfg.LogoutClient.Do(req)
	if err != nil {
		return true, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent:
		return false, nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return true, errors.New("authz: back-channel logout answered " + resp.Status)
	}
	return false, errors.New("authz: back-channel logout answered " + resp.Status)
}

// logoutToken signs a logout token (§2.4): iss, aud, iat, exp, jti, sub,
// sid and the back-channel logout event; never a nonce.
func (s *Server) logoutToken(ctx context.Context, d *logoutDelivery, now time.Time) (string, error) {
	key, err := s.signer(ctx, d.alg)
	if err != nil {
		return "", err
	}
	claims := map[string]any{
		"iss": s.cfg.Issuer, "aud": d.clientID, "iat": now.Unix(), "exp": now.Add(logoutTokenLifetime).Unix(),
		"jti": d.jti, "events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}
	if d.sub != "" {
		claims["sub"] = d.sub
	}
	if d.sid != "" {
		claims["sid"] = d.sid
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return key.Sign(TypeLogoutToken, payload)
}
