package redis

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// hubPing is how long the shared subscription may stay silent before it
// is pinged; a ping unanswered for as long again ends the subscription, so
// a connection lost without notice (a network partition) is reported
// within twice this time.
const hubPing = time.Second

// errSubscriptionLost is the error of a watch whose connection was lost
// before its subscription was confirmed.
var errSubscriptionLost = errors.New("redis: the pub/sub connection was lost")

// hub is the one pub/sub connection that every store derived from one New
// (through Tenant and WithClock) shares for its revocation and key-change
// channels. It SUBSCRIBEs to the exact channels its subscribers watch and
// UNSUBSCRIBEs from a channel when its last subscriber leaves; the
// connection is opened by the first subscriber and closed when the last
// one leaves. A single loop reads it (hubConn.run): the first read error,
// failed write or unanswered ping closes every subscriber, so none mistakes
// a gap for silence.
type hub struct {
	rdb     goredis.UniversalClient
	timeout time.Duration // bounds the writes made for leaving subscribers

	// mu guards conn and everything in it, and orders the SUBSCRIBE and
	// UNSUBSCRIBE commands: each is decided and written under it, so the
	// server sees them in the order of the decisions.
	mu   sync.Mutex
	conn *hubConn // nil when no one watches
}

// hubConn is one connection of a hub, from its first subscriber to its
// loss or its last subscriber's leaving; a connection lost is never reused.
type hubConn struct {
	ps     *goredis.PubSub
	topics map[string]*topic
	// pending holds, per channel, the confirmations awaited for the
	// SUBSCRIBEs written, oldest first: Redis answers them in order.
	pending map[string][]chan struct{}
	dead    bool
	done    chan struct{} // closed when dead
}

// topic is the subscribers of one channel on a connection.
type topic struct {
	subs      map[*subscriber]struct{}
	confirmed chan struct{} // closed when Redis confirms the SUBSCRIBE
}

// subscriber is one watch. deliver hands it a message without blocking and
// reports false when it cannot keep up, which closes it; close closes its
// channel. Both run under hub.mu, once the subscriber is registered and
// until it is removed, so there is no send on a closed channel.
type subscriber struct {
	channel string
	deliver func(*goredis.Message) bool
	close   func()
	gone    chan struct{} // closed when removed
}

func newHub(rdb goredis.UniversalClient, timeout time.Duration) *hub {
	return &hub{rdb: rdb, timeout: timeout}
}

// watch registers sub on its channel and returns once Redis confirmed the
// subscription, so that every message published afterwards reaches it.
// rctx bounds the subscription; ctx is the watch's lifetime: when it is
// done the subscriber is removed and closed.
func (h *hub) watch(ctx, rctx context.Context, sub *subscriber) error {
	sub.gone = make(chan struct{})
	h.mu.Lock()
	c, t, err := h.joinLocked(rctx, sub)
	h.mu.Unlock()
	if err != nil {
		return unavailable(err)
	}
	select {
	case <-t.confirmed:
	case <-c.done:
		return unavailable(errSubscriptionLost)
	case <-rctx.Done():
		h.leave(sub)
		return unavailable(rctx.Err())
	}
	go func() {
		select {
		case <-ctx.Done():
			h.leave(sub)
		case <-sub.gone:
		}
	}()
	return nil
}

// joinLocked adds sub to the current connection, opening one when there
// is none and subscribing to the channel when no one watched it yet.
func (h *hub) joinLocked(rctx context.Context, sub *subscriber) (*hubConn, *topic, error) {
	c := h.conn
	if c == nil {
		// No I/O until the first SUBSCRIBE, which dials; the loop starts
		// only once the connection exists, so it never dials itself.
		ps := h.rdb.Subscribe(context.Background())
		if err := ps.Subscribe(rctx, sub.channel); err != nil {
			_ = ps.Close()
			return nil, nil, err
		}
		c = &hubConn{ps: ps, topics: map[string]*topic{}, pending: map[string][]chan struct{}{}, done: make(chan struct{})}
		h.conn = c
		t := c.addTopic(sub.channel)
		t.subs[sub] = struct{}{}
		go h.run(c)
		return c, t, nil
	}
	t := c.topics[sub.channel]
	if t == nil {
		if err := c.ps.Subscribe(rctx, sub.channel); err != nil {
			// go-redis may have reconnected on its own, losing messages
			// meanwhile: this connection is done.
			h.killLocked(c)
			return nil, nil, err
		}
		t = c.addTopic(sub.channel)
	}
	t.subs[sub] = struct{}{}
	return c, t, nil
}

// addTopic records a channel just subscribed to.
func (c *hubConn) addTopic(channel string) *topic {
	t := &topic{subs: map[*subscriber]struct{}{}, confirmed: make(chan struct{})}
	c.topics[channel] = t
	c.pending[channel] = append(c.pending[channel], t.confirmed)
	return t
}

// leave removes sub, if it is still registered, and closes it.
func (h *hub) leave(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.conn; c != nil {
		h.removeLocked(c, sub)
	}
}

// removeLocked removes sub from c and closes it: the channel is
// unsubscribed when sub was its last subscriber, and the connection closed
// when sub was the last of all.
func (h *hub) removeLocked(c *hubConn, sub *subscriber) {
	t := c.topics[sub.channel]
	if t == nil {
		return
	}
	if _, ok := t.subs[sub]; !ok {
		return
	}
	delete(t.subs, sub)
	sub.close()
	close(sub.gone)
	if len(t.subs) > 0 {
		return
	}
	delete(c.topics, sub.channel)
	if len(c.topics) == 0 {
		h.killLocked(c)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	if c.ps.Unsubscribe(ctx, sub.channel) != nil {
		h.killLocked(c)
	}
}

// killLocked ends c: every subscriber is closed, the hub forgets it (the
// next watch opens a new connection), and the connection is closed, which
// ends its loop.
func (h *hub) killLocked(c *hubConn) {
	if c.dead {
		return
	}
	c.dead = true
	if h.conn == c {
		h.conn = nil
	}
	for _, t := range c.topics {
		for sub := range t.subs {
			sub.close()
			close(sub.gone)
		}
	}
	c.topics = nil
	close(c.done)
	_ = c.ps.Close()
}

// run is the connection's one reading loop. It pings after hubPing of
// silence and ends c on the first read error or unanswered ping.
func (h *hub) run(c *hubConn) {
	defer func() {
		h.mu.Lock()
		h.killLocked(c)
		h.mu.Unlock()
	}()
	pinged := false
	for {
		msg, err := c.ps.ReceiveTimeout(context.Background(), hubPing)
		var nerr net.Error
		switch {
		case errors.As(err, &nerr) && nerr.Timeout() && !pinged:
			ctx, cancel := context.WithTimeout(context.Background(), hubPing)
			err = c.ps.Ping(ctx)
			cancel()
			if err != nil {
				return
			}
			pinged = true
			continue
		case err != nil:
			return // lost, closed, or a ping unanswered
		}
		pinged = false
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind == "subscribe" {
				h.confirm(c, m.Channel)
			}
		case *goredis.Message:
			h.dispatch(c, m)
		}
	}
}

// confirm marks the oldest SUBSCRIBE awaiting confirmation on channel as
// active.
func (h *hub) confirm(c *hubConn, channel string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	q := c.pending[channel]
	if len(q) == 0 {
		return
	}
	close(q[0])
	if len(q) == 1 {
		delete(c.pending, channel)
	} else {
		c.pending[channel] = q[1:]
	}
}

// dispatch hands m to the subscribers of its channel; one that cannot keep
// up is removed and closed, so it never blocks the others.
func (h *hub) dispatch(c *hubConn, m *goredis.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := c.topics[m.Channel]
	if t == nil {
		return
	}
	var slow []*subscriber
	for sub := range t.subs {
		if !sub.deliver(m) {
			slow = append(slow, sub)
		}
	}
	for _, sub := range slow {
		h.removeLocked(c, sub)
	}
}
