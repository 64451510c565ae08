package slackbot

import (
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"time"

	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
	"github.com/aws-reset-bot/aws-reset-bot/internal/startup"
	"github.com/aws-reset-bot/aws-reset-bot/internal/workflow"
)

// Options is everything New needs to make the bot and the workflow behind
// it from the configuration.
type Options struct {
	Config     config.Config
	Secrets    config.Secrets
	Resetter   workflow.Resetter
	Store      workflow.Store
	ConsoleURL string // where people sign in
	// Accounts are the accounts of aws.accounts (serve.Accounts makes them).
	Accounts   map[string]workflow.Account
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
	// HoldQuiet is how long the envelopes must pause before the work they
	// started begins (see holdQuiet); tests shorten it.
	HoldQuiet time.Duration
	// SlackRetry overrides how Web API calls are retried; tests shorten it.
	SlackRetry *slack.RetryConfig
	// SlackLimits are the per-minute limits a Web API method is paced at
	// once Slack has throttled it; nil means Slack's published tiers.
	SlackLimits map[string]int
	// SlackCallTimeout bounds each Web API attempt; default 30s.
	SlackCallTimeout time.Duration
	// Startup is how Slack is waited for at start; its Status hears what
	// is missing, for /readyz.
	Startup startup.Options
	// Replica is this process's place among the bot's replicas; nil: one
	// process, sharing nothing.
	Replica *workflow.Replica
}

// New builds the Web API client, the workflow that uses it, and the bot
// that feeds the workflow. It makes no network call.
func New(opts Options) (*Bot, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cfg := opts.Config
	client := NewClient(ClientOptions{
		APIURL: cfg.Slack.APIURL, Secrets: opts.Secrets, Metrics: opts.Metrics, HTTPClient: opts.HTTPClient,
		Concurrency: cfg.Reset.Concurrency, Retry: opts.SlackRetry, Limits: opts.SlackLimits, Now: opts.Now,
		CallTimeout: opts.SlackCallTimeout,
	})
	flow, err := workflow.New(workflow.Options{
		Config: cfg, Slack: client, Resetter: opts.Resetter, Store: opts.Store, ConsoleURL: opts.ConsoleURL,
		Logger: opts.Logger, Metrics: opts.Metrics, Now: opts.Now,
		Accounts: opts.Accounts, Replica: opts.Replica, ChoiceKey: choiceKey(opts.Secrets.AppToken),
	})
	if err != nil {
		return nil, err
	}
	sweep := opts.SweepInterval
	if sweep == 0 {
		sweep = 30 * time.Second
		for _, a := range cfg.Approvals() { // the shortest of every account's
			sweep = min(sweep, a.Timeout.D()/10)
		}
	}
	return NewBot(BotOptions{
		Client: client, Handler: flow, Logger: opts.Logger, Metrics: opts.Metrics, Now: opts.Now,
		Concurrency: cfg.Reset.Concurrency, Deadline: cfg.Reset.Deadline.D(),
		ShutdownTimeout: opts.ShutdownTimeout, SweepInterval: sweep, PingInterval: opts.PingInterval, HoldQuiet: opts.HoldQuiet,
		Startup: opts.Startup,
	})
}

// choiceKey derives the key that signs the account buttons from the app
// token, so every replica of one app accepts the buttons of another, and
// rotating the token retires the buttons.
func choiceKey(appToken string) []byte {
	if appToken == "" {
		return nil // a key of the process's own
	}
	m := hmac.New(sha256.New, []byte(appToken))
	m.Write([]byte("aws-reset-bot account choice v1"))
	return m.Sum(nil)
}
