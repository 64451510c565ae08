package slackbot

import (
	"time"

	"golang.org/x/time/rate"
)

// Slack's limits are per app and workspace, shared by every connection
// and process of the app: N replicas each pacing at the full tier would
// send N times too much. Each replica learns from its heartbeat how many
// are alive and paces at its share, the tier divided by that count.

// setShare makes the pacer pace at 1/n of each tier, from now on and for
// the methods already paced. n below 1 counts as 1.
func (p *pacer) setShare(n int) {
	n = max(n, 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.share == n {
		return
	}
	p.share = n
	slowest := rate.Inf
	for method, m := range p.methods {
		lim := p.limitLocked(method)
		m.limiter.SetLimit(lim)
		slowest = min(slowest, lim)
	}
	if len(p.methods) > 0 {
		p.admits.SetLimit(slowest)
	}
}

// limitLocked is method's pace: its per-minute tier, shared.
func (p *pacer) limitLocked(method string) rate.Limit {
	perMinute := p.tiers[method]
	if perMinute <= 0 {
		perMinute = unknownTier
	}
	return rate.Every(time.Minute * time.Duration(p.share) / time.Duration(perMinute))
}

// SetReplicas tells the client how many replicas share Slack's limits.
func (c *Client) SetReplicas(n int) { c.pace.setShare(n) }

// SetReplicas tells the bot how many replicas share Slack's limits: its
// Web API client paces at its share, and /metrics shows the count.
func (b *Bot) SetReplicas(n int) {
	b.client.SetReplicas(n)
	b.metrics.Replicas(n)
}

// SetStoreReachable tells the workflow whether the store answers: while
// it does not, commands are answered at once and start nothing.
func (b *Bot) SetStoreReachable(ok bool) {
	if h, isFlow := b.handler.(interface{ SetStoreReachable(bool) }); isFlow {
		h.SetStoreReachable(ok)
	}
}
