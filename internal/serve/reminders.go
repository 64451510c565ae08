package serve

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reminder"
	"github.com/aws-reset-bot/aws-reset-bot/internal/workflow"
)

// ReminderOptions wires reminders the way run and remind share.
func ReminderOptions(cfg config.Config, secrets config.Secrets, iamClient reminder.IAM, st reminder.Store, consoleURL string,
	logger *slog.Logger, m *metrics.Metrics) reminder.Options {
	return reminder.Options{
		Config:     cfg,
		IAM:        iamClient,
		Slack:      reminderSlack(cfg, secrets),
		Store:      st,
		ConsoleURL: consoleURL,
		Logger:     logger,
		Metrics:    m,
	}
}

// EveryAccountReminders are the options of one Reminder per account: the
// bot's own (when some listed user is in it) on own, and each of
// aws.accounts on its role's IAM client, with its sign-in URL.
func EveryAccountReminders(cfg config.Config, secrets config.Secrets, own reminder.IAM, ownConsole string,
	accounts map[string]workflow.Account, clients map[string]awsclient.Clients, st reminder.Store,
	logger *slog.Logger, m *metrics.Metrics) []reminder.Options {
	var out []reminder.Options
	if slices.ContainsFunc(cfg.Users, func(u config.User) bool { return u.Account == "" }) {
		out = append(out, ReminderOptions(cfg, secrets, own, st, ownConsole, logger, m))
	}
	for _, a := range cfg.AWS.Accounts {
		o := ReminderOptions(cfg, secrets, clients[a.Name].IAM, st, accounts[a.Name].ConsoleURL,
			logger.With(slog.String("account", a.Name)), m)
		o.Account, o.AccountID = a.Name, a.AccountID()
		out = append(out, o)
	}
	return out
}

// reminderSlack is the Web API client reminders are posted with. It
// retries 429s alone: Slack did nothing then. After a 5xx or a dropped
// connection the message may have been posted, and a retry could post a
// reminder twice, which at-most-once forbids.
func reminderSlack(cfg config.Config, secrets config.Secrets) *slack.Client {
	retry := slack.RetryConfig{MaxRetries: 3, RetryAfterDuration: 5 * time.Second, RetryAfterJitter: 500 * time.Millisecond}
	retry.Handlers = []slack.RetryHandler{slack.NewRateLimitErrorRetryHandler(retry)}
	return slack.New(secrets.BotToken, slack.OptionAPIURL(cfg.Slack.APIURL), slack.OptionRetryConfig(retry))
}

// startReminders runs the daily reminder loop in a goroutine until ctx
// ends or stop is called; stop waits for it to finish.
func startReminders(ctx context.Context, opts reminder.Options) (stop func(), err error) {
	rem, err := reminder.New(opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = rem.Run(ctx) // returns nil when ctx ends; it logs its own failures
	}()
	return func() {
		cancel()
		<-done
	}, nil
}
