package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/serve"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slackbot"
)

// consoleURL is the sign-in URL the bot is told, so it makes no look-up.
const consoleURL = "https://loadtest.signin.aws.amazon.com/console"

// Person is one listed user of the load test: a Slack user and the IAM
// user the allowlist maps them to.
type Person struct {
	SlackUser string `json:"slack_user"`
	IAMUser   string `json:"iam_user"`
}

// People returns n listed people with stable, valid IDs and names.
func People(n int) []Person {
	out := make([]Person, n)
	for i := range out {
		out[i] = Person{SlackUser: fmt.Sprintf("U%08d", i+1), IAMUser: fmt.Sprintf("lt-user-%05d", i+1)}
	}
	return out
}

// BotSpec is everything the side under test needs to start: the fakes'
// addresses, the allowlist and the knobs. It travels to a child process
// as JSON, so the bot can be measured in a process of its own.
type BotSpec struct {
	SlackAPIURL string        `json:"slack_api_url"`
	IAMURL      string        `json:"iam_url"`
	StoreDir    string        `json:"store_dir"`
	People      []Person      `json:"people"`
	Concurrency int           `json:"concurrency"` // reset.concurrency; 0 = the default
	IAMRate     float64       `json:"iam_rate"`    // aws.max_calls_per_second; 0 = none
	Deadline    time.Duration `json:"deadline"`    // reset.deadline; 0 = the default
	// AnswerAcks makes the baseline ack with an answer as large as the
	// bot's "working on it" instead of a bare ack.
	AnswerAcks bool `json:"answer_acks,omitempty"`
	// SlackLimits are slackbot.Options.SlackLimits; nil = the published tiers.
	SlackLimits map[string]int `json:"slack_limits,omitempty"`
	// DatabaseURL selects PostgreSQL (as DATABASE_URL does); "" = SQLite
	// in StoreDir. For a baseline, it is where each command is recorded
	// before its ack; "" = none.
	DatabaseURL string `json:"database_url,omitempty"`
}

// Config is the bot configuration for s: the defaults, as a deployment
// would run them, with the fakes' addresses and the allowlist.
func (s BotSpec) Config() (config.Config, error) {
	cfg := config.Default()
	cfg.Slack.APIURL = s.SlackAPIURL
	cfg.Store.Path = filepath.Join(s.StoreDir, "aws-reset.db")
	cfg.AWS.ConsoleURL = consoleURL
	cfg.AWS.MaxCallsPerSecond = s.IAMRate
	if s.Concurrency > 0 {
		cfg.Reset.Concurrency = s.Concurrency
	}
	if s.Deadline > 0 {
		cfg.Reset.Deadline = config.Duration(s.Deadline)
	}
	cfg.Users = make([]config.User, len(s.People))
	for i, p := range s.People {
		cfg.Users[i] = config.User{SlackUser: p.SlackUser, IAMUser: p.IAMUser}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("load test bot config: %w", err)
	}
	return cfg, nil
}

// RunBot runs the real bot for spec, wired by serve.Run as "bot run"
// wires it (store, resetter, the AWS clients with every option, metrics),
// with a logger that formats every line, until ctx ends.
func RunBot(ctx context.Context, spec BotSpec, logOut io.Writer) error {
	cfg, err := spec.Config()
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	secrets := config.Secrets{AppToken: fakeslack.AppToken, BotToken: fakeslack.BotToken, DatabaseURL: spec.DatabaseURL}
	return serve.Run(ctx, cfg, secrets, logger, serve.Options{
		Version: "loadtest",
		AWSOptions: []func(*awsconfig.LoadOptions) error{
			awsconfig.WithRegion(fakeaws.Region),
			awsconfig.WithBaseEndpoint(spec.IAMURL),
			awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(fakeaws.AccessKeyID, fakeaws.SecretAccessKey, "")),
		},
		Bot: func(o *slackbot.Options) { o.SlackLimits = spec.SlackLimits },
	})
}

// RunBaseline runs the bare Socket Mode client the bot is compared with:
// slack-go's client, acking every envelope and doing nothing else; with
// spec.DatabaseURL, recording each command there before its ack (see
// recording.go).
func RunBaseline(ctx context.Context, spec BotSpec) error {
	// The bot's answer, with a request ID's worth of text: what its ack
	// carries, so this baseline costs Slack's side as much to read.
	text := "Working on it. I'll answer in a direct message from me. (request RABCDEFGHJK)"
	answer := map[string]any{"response_type": "ephemeral", "text": text,
		"blocks": []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)}}
	api := slack.New(fakeslack.BotToken, slack.OptionAPIURL(spec.SlackAPIURL), slack.OptionAppLevelToken(fakeslack.AppToken))
	sock := socketmode.New(api)
	ack := func(req socketmode.Request) {
		if spec.AnswerAcks {
			_ = sock.Ack(req, answer)
		} else {
			_ = sock.Ack(req)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var rec *recordedAcks
	recErr := make(chan error, 1)
	if spec.DatabaseURL != "" {
		var err error
		if rec, err = openRecordedAcks(ctx, spec.DatabaseURL, ack); err != nil {
			return err
		}
		go func() { recErr <- rec.run(ctx) }()
	}
	errc := make(chan error, 1)
	go func() { errc <- sock.RunContext(ctx) }()
	for {
		select {
		case err := <-errc:
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		case err := <-recErr:
			if err != nil {
				return err
			}
		case evt := <-sock.Events:
			if evt.Request == nil || evt.Request.EnvelopeID == "" {
				continue
			}
			if rec != nil {
				rec.add(*evt.Request, slashUser(evt))
				continue
			}
			ack(*evt.Request)
		}
	}
}
