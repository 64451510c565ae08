// Package slackbot talks to Slack: the Web API client (pooled
// connections, retries, pacing at Slack's limits, metrics) and the Socket
// Mode connection, whose loop acks every envelope at once and hands the
// work to a bounded pool. What a command or a click means is package
// workflow's business: this package turns Slack's payloads into
// workflow.Command and workflow.Click, and implements workflow.Messenger.
//
// The flow of one request, and its states, are in docs/ARCHITECTURE.md.
package slackbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/startup"
	"github.com/aws-reset-bot/aws-reset-bot/internal/workflow"
)

// Handler is what the bot hands its envelopes to: the request workflow.
type Handler interface {
	// Start is told the bot's identity and returns the work a previous
	// run left.
	Start(ctx context.Context, self workflow.Identity) []func(context.Context)
	// Preflight decides, with no call, what a command's ack says: a new
	// request ID (the ack says workflow.WorkingMessage), or the answer.
	Preflight(cmd workflow.Command) (requestID string, answer slacktext.Message)
	HandleCommand(ctx context.Context, cmd workflow.Command, requestID string)
	HandleClick(ctx context.Context, c workflow.Click)
	// Sweep runs the periodic work (expiries, unused passwords).
	Sweep(ctx context.Context)
	viewHandler
}

// BotOptions configures a Bot made by NewBot.
type BotOptions struct {
	Client  *Client
	Handler Handler
	Logger  *slog.Logger
	Metrics *metrics.Metrics // may be nil
	Now     func() time.Time // default time.Now

	// Concurrency bounds the requests worked on at once (reset.concurrency).
	Concurrency int
	// Deadline bounds each request's work (reset.deadline).
	Deadline time.Duration
	// ShutdownTimeout bounds how long Run waits for work in flight after
	// its context ends; default 30s.
	ShutdownTimeout time.Duration
	// SweepInterval is how often Handler.Sweep runs; default 30s.
	SweepInterval time.Duration
	// PingInterval is how long Socket Mode waits for Slack's ping before it
	// reconnects; default slack-go's 30s.
	PingInterval time.Duration
	// HoldQuiet is how long the envelopes must pause before the work they
	// started goes to the pool; default holdQuiet. Tests shorten it.
	HoldQuiet time.Duration
	// Startup is how auth.test is retried while Slack does not answer at
	// start; its Status hears what is missing.
	Startup startup.Options
}

// Bot holds the Socket Mode connection. Make one with New (or NewBot);
// Run it once.
type Bot struct {
	opts    BotOptions
	client  *Client
	handler Handler
	log     *slog.Logger
	metrics *metrics.Metrics
	now     func() time.Time
	socket  *socketmode.Client

	connected atomic.Bool // Socket Mode is up
	started   atomic.Bool

	pool *pool          // runs the requests, reset.concurrency at once
	work sync.WaitGroup // requests in flight or waiting for the pool
	held *holdback      // work waiting for the acks to go out; Run loop only
	acks ackLog         // commands acked, to be recorded (acked.go)
}

// NewBot builds a Bot that hands its envelopes to opts.Handler. It makes
// no network call.
func NewBot(opts BotOptions) (*Bot, error) {
	if opts.Client == nil || opts.Handler == nil || opts.Logger == nil {
		return nil, errors.New("slackbot: Client, Handler and Logger are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 30 * time.Second
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = 30 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.Deadline <= 0 {
		opts.Deadline = 2 * time.Minute
	}
	if opts.HoldQuiet <= 0 {
		opts.HoldQuiet = holdQuiet
	}
	if opts.Startup.Logger == nil {
		opts.Startup.Logger = opts.Logger
	}
	var sockOpts []socketmode.Option
	if opts.PingInterval > 0 {
		sockOpts = append(sockOpts, socketmode.OptionPingInterval(opts.PingInterval))
	}
	b := &Bot{
		opts: opts, client: opts.Client, handler: opts.Handler,
		log: opts.Logger, metrics: opts.Metrics, now: opts.Now,
		socket: socketmode.New(opts.Client.api, sockOpts...),
	}
	b.pool = &pool{n: opts.Concurrency, wg: &b.work}
	return b, nil
}

// Ready reports whether the bot is connected to Slack and serving.
func (b *Bot) Ready() bool { return b.connected.Load() }

// Check is the readiness check for /readyz: nil when serving, else what is
// missing.
func (b *Bot) Check(ctx context.Context) error {
	if err := b.opts.Startup.Status.Check("slack")(ctx); err != nil {
		return err
	}
	if !b.Ready() {
		return errors.New("socket mode is not connected")
	}
	return nil
}

// Run connects to Slack and serves until ctx ends, then stops taking new
// work, lets the work in flight finish (within the shutdown timeout) and
// returns nil. It returns an error when Slack refuses the tokens.
func (b *Bot) Run(ctx context.Context) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("slackbot: Run called twice")
	}
	// Slack may be down or unreachable at start: wait for it (not ready
	// meanwhile), but give up at once on a token it refuses.
	var self workflow.Identity
	var team string
	err := startup.Wait(ctx, b.opts.Startup, "slack", func(ctx context.Context) error {
		var err error
		self, team, err = b.client.WhoAmI(ctx)
		if err != nil && refusedToken(err) {
			return startup.Definitive(err)
		}
		return err
	})
	if err != nil {
		if ctx.Err() != nil && !startup.IsDefinitive(err) {
			return nil // stopped while waiting for Slack: nothing was started
		}
		return fmt.Errorf("slack auth.test with the bot token: %w", err)
	}
	b.log.Info("connected to Slack workspace", slog.String(keyTeam, self.TeamID), slog.String("workspace", team),
		slog.String("bot_user", self.UserID))

	// Work outlives ctx: a reset under way is finished, not abandoned
	// half-way. workCtx ends only when the shutdown timeout runs out.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	for _, job := range b.handler.Start(workCtx, self) {
		b.goWork(workCtx, job)
	}

	stopAcked := b.startAckLog(workCtx)

	sockCtx, stopSocket := context.WithCancel(ctx)
	defer stopSocket()
	sockErr := make(chan error, 1)
	go func() { sockErr <- b.socket.RunContext(sockCtx) }()

	sweep := time.NewTicker(b.opts.SweepInterval)
	defer sweep.Stop()
	b.held = newHoldback(b.opts.HoldQuiet, holdMost)

	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-sockErr:
			if ctx.Err() == nil {
				runErr = fmt.Errorf("slack socket mode: %w", err)
			}
			break loop
		case <-sweep.C:
			b.goWork(workCtx, b.handler.Sweep)
		case evt := <-b.socket.Events:
			b.handleEvent(workCtx, evt)
		case <-b.held.due():
			if (b.acks.busy() || len(b.socket.Events) > 0) && b.held.postpone(b.now()) {
				continue // acks still going out, or envelopes read and not yet acked: the work waits for them
			}
			b.releaseHeld()
		case works := <-b.acks.recorded:
			for _, w := range works {
				b.held.add(b.now(), w)
			}
		}
	}
	stopAcked()     // the commands read are recorded and acked, their work started
	b.releaseHeld() // acked, so owed: finished within the shutdown timeout
	stopSocket()
	b.setConnected(false, false)
	b.log.Info("stopping: no new requests; finishing the ones in flight")

	done := make(chan struct{})
	go func() { b.work.Wait(); close(done) }()
	timer := time.NewTimer(b.opts.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		b.log.Warn("shutdown timeout: cancelling requests still in flight; any left resetting resume at the next start")
		cancelWork()
		<-done
	}
	return runErr
}

// goWork runs f in the pool once a worker is free (unless ctx ends
// first), with the per-request deadline.
func (b *Bot) goWork(ctx context.Context, f func(context.Context)) {
	b.pool.do(ctx, func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, b.opts.Deadline)
		defer cancel()
		f(ctx)
	})
}

// refusedToken reports whether Slack refused the token itself: no wait
// mends that. These are the errors slack-go's Socket Mode also gives up on.
func refusedToken(err error) bool {
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		return false
	}
	switch se.Err {
	case "invalid_auth", "not_authed", "token_revoked", "account_inactive", "token_expired":
		return true
	}
	return false
}

func (b *Bot) setConnected(up, reconnect bool) {
	if b.connected.Swap(up) != up {
		b.metrics.Connected(up, reconnect)
	}
}

// Log keys, as package workflow names them.
const (
	keyTeam  = "team_id"
	keyError = "error"
)
