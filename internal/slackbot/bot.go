// Package slackbot is the Slack side of the bot: it holds the Socket Mode
// connection, acks every envelope at once, checks who is asking, drives a
// request through approval, reset and delivery, and talks to people.
//
// The flow of one request, and its states, are in docs/ARCHITECTURE.md.
package slackbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
)

// Resetter sets new console passwords.
type Resetter interface {
	Reset(ctx context.Context, iamUser string) (password.Secret, error)
	Check(ctx context.Context, iamUser string) error
	Inspect(ctx context.Context, iamUser string) (reset.Account, error)
	Scramble(ctx context.Context, iamUser string) error
}

// Store keeps requests and the audit trail.
type Store interface {
	CreateRequest(ctx context.Context, r request.Request) (request.Request, error)
	Request(ctx context.Context, id string) (request.Request, error)
	RequestByToken(ctx context.Context, token string) (request.Request, error)
	Move(ctx context.Context, id string, from []request.State, to request.State, now time.Time, update func(*request.Request)) (request.Request, error)
	SetApprovalMessage(ctx context.Context, id, channel, ts string) error
	RequestsInState(ctx context.Context, state request.State) ([]request.Request, error)
	ExpiredPending(ctx context.Context, now time.Time) ([]request.Request, error)
	LastDelivered(ctx context.Context, slackUser string) (time.Time, error)
	AppendAudit(ctx context.Context, e request.AuditEvent) error
	// MarkReminderSent claims a one-time job by key; true the first time.
	MarkReminderSent(ctx context.Context, key string, at time.Time) (bool, error)
}

// Options configures a Bot.
type Options struct {
	Config     config.Config
	Secrets    config.Secrets
	Resetter   Resetter
	Store      Store
	ConsoleURL string // where people sign in
	Logger     *slog.Logger
	Metrics    *metrics.Metrics // may be nil
	HTTPClient *http.Client     // for the Slack Web API; default newHTTPClient
	Now        func() time.Time // default time.Now

	// ShutdownTimeout bounds how long Run waits for work in flight after
	// its context ends; default 30s.
	ShutdownTimeout time.Duration
	// SweepInterval is how often expired approval requests are looked for;
	// default a tenth of the approval timeout, at most 30s.
	SweepInterval time.Duration
	// PingInterval is how long Socket Mode waits for Slack's ping before it
	// reconnects; default slack-go's 30s.
	PingInterval time.Duration
	// SlackRetry overrides how Web API calls are retried; tests shorten it.
	SlackRetry *slack.RetryConfig
	// SlackLimits are the per-minute limits a Web API method is paced at
	// once Slack has throttled it; nil means Slack's published tiers. Tests
	// raise them.
	SlackLimits map[string]int
}

// Bot answers the slash command. Make one with New; Run it once.
type Bot struct {
	opts     Options
	cfg      config.Config
	log      *slog.Logger
	metrics  *metrics.Metrics
	now      func() time.Time
	api      *slack.Client
	socket   *socketmode.Client
	resetter Resetter
	store    Store
	users    map[string]config.User // allowlist by Slack user ID

	self      identity    // the bot's own workspace, from auth.test
	connected atomic.Bool // Socket Mode is up
	started   atomic.Bool

	sem  chan struct{}  // bounds the requests worked on at once
	work sync.WaitGroup // requests in flight
	held *holdback      // work waiting for the acks to go out; Run loop only
	pace *pacer         // Slack's rate limits, as learned from 429s

	dmMu sync.Mutex
	dms  map[string]string // DM channel ID by user ID; DM IDs never change

	groups groupCache
}

type identity struct {
	TeamID, EnterpriseID, UserID, BotID string
}

// New checks the options and builds a Bot. It makes no network call.
func New(opts Options) (*Bot, error) {
	if opts.Resetter == nil || opts.Store == nil || opts.Logger == nil {
		return nil, errors.New("slackbot: Resetter, Store and Logger are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = newHTTPClient(opts.Config.Reset.Concurrency)
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 30 * time.Second
	}
	cfg := opts.Config
	if opts.SweepInterval == 0 {
		opts.SweepInterval = min(cfg.Approval.Timeout.D()/10, 30*time.Second)
		if opts.SweepInterval <= 0 {
			opts.SweepInterval = 30 * time.Second
		}
	}
	retry := slack.RetryConfig{
		MaxRetries:         5,
		RetryAfterDuration: 5 * time.Second,
		RetryAfterJitter:   500 * time.Millisecond,
		BackoffInitial:     200 * time.Millisecond,
		BackoffMax:         5 * time.Second,
		BackoffJitter:      100 * time.Millisecond,
	}
	if opts.SlackRetry != nil {
		retry = *opts.SlackRetry
	}
	retry.Handlers = []slack.RetryHandler{
		slack.NewConnectionErrorRetryHandler(),
		slack.NewRateLimitErrorRetryHandler(retry),
		slack.NewServerErrorRetryHandler(retry),
	}
	pace := newPacer(opts.SlackLimits)
	api := slack.New(opts.Secrets.BotToken,
		slack.OptionAPIURL(cfg.Slack.APIURL),
		slack.OptionAppLevelToken(opts.Secrets.AppToken),
		slack.OptionHTTPClient(&pacedClient{next: &measuredClient{client: opts.HTTPClient, metrics: opts.Metrics}, pace: pace}),
		slack.OptionRetryConfig(retry),
	)
	var sockOpts []socketmode.Option
	if opts.PingInterval > 0 {
		sockOpts = append(sockOpts, socketmode.OptionPingInterval(opts.PingInterval))
	}
	users := make(map[string]config.User, len(cfg.Users))
	for _, u := range cfg.Users {
		users[u.SlackUser] = u
	}
	return &Bot{
		opts:     opts,
		cfg:      cfg,
		log:      opts.Logger,
		metrics:  opts.Metrics,
		now:      opts.Now,
		api:      api,
		socket:   socketmode.New(api, sockOpts...),
		resetter: opts.Resetter,
		store:    opts.Store,
		users:    users,
		sem:      make(chan struct{}, cfg.Reset.Concurrency),
		pace:     pace,
		dms:      map[string]string{},
		groups:   groupCache{ttl: time.Minute},
	}, nil
}

// Ready reports whether the bot is connected to Slack and serving.
func (b *Bot) Ready() bool { return b.connected.Load() }

// Run connects to Slack and serves until ctx ends, then stops taking new
// work, lets the work in flight finish (within the shutdown timeout) and
// returns nil. It returns an error when Slack refuses the tokens.
func (b *Bot) Run(ctx context.Context) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("slackbot: Run called twice")
	}
	auth, err := b.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("slack auth.test with the bot token: %w", err)
	}
	b.self = identity{TeamID: auth.TeamID, EnterpriseID: auth.EnterpriseID, UserID: auth.UserID, BotID: auth.BotID}
	b.log.Info("connected to Slack workspace", slog.String(keyTeam, auth.TeamID), slog.String("workspace", auth.Team),
		slog.String("bot_user", auth.UserID))

	// Work outlives ctx: a reset under way is finished, not abandoned
	// half-way. workCtx ends only when the shutdown timeout runs out.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	b.resume(workCtx)

	sockCtx, stopSocket := context.WithCancel(ctx)
	defer stopSocket()
	sockErr := make(chan error, 1)
	go func() { sockErr <- b.socket.RunContext(sockCtx) }()

	sweep := time.NewTicker(b.opts.SweepInterval)
	defer sweep.Stop()
	b.held = newHoldback(holdQuiet, holdMost)

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
			b.goWork(workCtx, b.sweepExpired)
			if b.cfg.Reset.ExpireUnusedAfter > 0 {
				b.goWork(workCtx, b.sweepUnused)
			}
		case evt := <-b.socket.Events:
			b.handleEvent(workCtx, evt)
		case <-b.held.due():
			b.releaseHeld()
		}
	}
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

// goWork runs f on its own goroutine once a slot is free, with the
// per-request deadline.
func (b *Bot) goWork(ctx context.Context, f func(context.Context)) {
	b.work.Add(1)
	go func() {
		defer b.work.Done()
		select {
		case b.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-b.sem }()
		ctx, cancel := context.WithTimeout(ctx, b.cfg.Reset.Deadline.D())
		defer cancel()
		f(ctx)
	}()
}

func (b *Bot) setConnected(up, reconnect bool) {
	if b.connected.Swap(up) != up {
		b.metrics.Connected(up, reconnect)
	}
}

// Log keys, so every line names things the same way.
const (
	keyRequest = "request_id"
	keyUser    = "slack_user"
	keyTeam    = "team_id"
	keyIAMUser = "iam_user"
	keyOutcome = "outcome"
	keyActor   = "actor"
	keyError   = "error"
)
