package slackbot

import (
	"context"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Slack limits each Web API method per workspace: a method that answers
// 429 says, in Retry-After, when to call again. A burst of a thousand
// commands meets those limits at once, so the bot paces itself:
//
//   - Until a method is first throttled, its calls go out unpaced: a
//     workspace whose limits are higher than the published ones, or a test
//     fake with none, is not slowed down.
//   - A 429 closes the method until its Retry-After has passed, for every
//     caller, and from then on paces it at the method's published tier, so
//     further 429s are rare. Calls wait their turn in the order they asked.
//   - The HTTP layer retries a 429 itself, for as long as the request's
//     context allows; slack-go sees a 429 only when the context would end
//     before the retry.
//   - Requests are admitted to work no faster than the slowest paced method
//     allows, and only while no method is closed, so a request's deadline
//     starts when it can finish, not while it queues (see admit).

// publishedTiers are Slack's documented per-minute limits of the methods
// the bot calls (Tier 2: 20, Tier 3: 50, Tier 4: 100; chat.postMessage
// about one a second). They are minimums: a workspace may allow more.
var publishedTiers = map[string]int{
	"auth.test":             100,
	"apps.connections.open": 50,
	"users.info":            100,
	"conversations.open":    50,
	"conversations.info":    50,
	"chat.postEphemeral":    100,
	"chat.postMessage":      60,
	"chat.update":           50,
	"usergroups.users.list": 20,
}

// unknownTier paces a throttled method the table does not know: Tier 2.
const unknownTier = 20

// pacer holds each method's pace; the zero pacer paces nothing until a 429.
type pacer struct {
	now     func() time.Time
	tiers   map[string]int // per-minute pace of a throttled method
	mu      sync.Mutex
	methods map[string]*methodPace
	admits  *rate.Limiter // requests started; unlimited until a method is paced
	share   int           // replicas sharing the app's limits (share.go); at least 1
}

type methodPace struct {
	limiter *rate.Limiter // at the method's tier
	closed  time.Time     // no call before this: the last Retry-After
}

func newPacer(tiers map[string]int, now func() time.Time) *pacer {
	if tiers == nil {
		tiers = publishedTiers
	}
	return &pacer{now: now, tiers: tiers, methods: map[string]*methodPace{}, admits: rate.NewLimiter(rate.Inf, 1), share: 1}
}

// wait blocks until method may be called, or ctx would end first.
func (p *pacer) wait(ctx context.Context, method string) error {
	p.mu.Lock()
	m := p.methods[method]
	var closed time.Time
	var limiter *rate.Limiter
	if m != nil {
		closed, limiter = m.closed, m.limiter
	}
	p.mu.Unlock()
	if m == nil {
		return nil
	}
	if err := p.sleepUntil(ctx, closed); err != nil {
		return err
	}
	return limiter.Wait(ctx)
}

// throttled records a 429 for method: closed for retryAfter, paced from then on.
func (p *pacer) throttled(method string, retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.methods[method]
	if m == nil {
		m = &methodPace{limiter: rate.NewLimiter(p.limitLocked(method), 1)}
		p.methods[method] = m
		// Admit requests no faster than the slowest paced method serves them.
		if lim := m.limiter.Limit(); lim < p.admits.Limit() {
			p.admits.SetLimit(lim)
		}
	}
	if until := p.now().Add(retryAfter); until.After(m.closed) {
		m.closed = until
	}
}

// admit blocks until a new request may start: no method is closed, and
// the admission pace allows one more. Requests wait in the order they came.
func (p *pacer) admit(ctx context.Context) error {
	for {
		p.mu.Lock()
		var closed time.Time
		for _, m := range p.methods {
			if m.closed.After(closed) {
				closed = m.closed
			}
		}
		p.mu.Unlock()
		if !closed.After(p.now()) {
			break
		}
		if err := p.sleepUntil(ctx, closed); err != nil {
			return err
		}
	}
	return p.admits.Wait(ctx)
}

// sleepUntil sleeps until t on the pacer's clock, or fails at once if ctx
// would end first.
func (p *pacer) sleepUntil(ctx context.Context, t time.Time) error {
	d := t.Sub(p.now())
	if d <= 0 {
		return ctx.Err()
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return context.DeadlineExceeded
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryAfter reads a 429's Retry-After (whole seconds); at least a second.
func retryAfter(resp *http.Response) time.Duration {
	s, err := strconv.ParseFloat(strings.TrimSpace(resp.Header.Get("Retry-After")), 64)
	if err != nil || math.IsNaN(s) || s < 1 {
		return time.Second
	}
	return time.Duration(math.Min(s, 3600) * float64(time.Second))
}

// pacedClient paces every Web API call and retries its 429s (see pacer).
type pacedClient struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	pace *pacer
}

func (c *pacedClient) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	method := req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:]
	for {
		if err := c.pace.wait(ctx, method); err != nil {
			return nil, err
		}
		resp, err := c.next.Do(req)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests {
			return resp, err
		}
		wait := retryAfter(resp)
		c.pace.throttled(method, wait)
		if deadline, ok := ctx.Deadline(); (ok && time.Until(deadline) < wait) || (req.Body != nil && req.GetBody == nil) {
			return resp, nil // slack-go turns it into a RateLimitedError
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req.Body = body
		}
	}
}
