package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"
	_ "time/tzdata" // people's Slack time zones must load in a minimal image too

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reminder"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
)

// remindCommand sends the password expiry reminders due now, or with
// --dry-run shows them without sending or recording anything. It needs the
// tokens and AWS credentials, as run does.
func remindCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, path := newFlags("remind", stderr)
	dryRun := fs.Bool("dry-run", false, "show who would get which reminder now; send and record nothing")
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "remind: unexpected argument %q\n", fs.Arg(0))
		return errReported
	}
	cfg, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	if !cfg.Reminders.Enabled && !*dryRun {
		fmt.Fprintln(stderr, "reminders.enabled is false: preview with --dry-run, or enable reminders to send them")
		return errReported
	}
	secrets, err := loadSecrets(getenv, stderr)
	if err != nil {
		return err
	}
	logger, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	return remind(ctx, cfg, secrets, logger, remindOptions{dryRun: *dryRun}, stdout)
}

// remindOptions are the knobs that tests turn.
type remindOptions struct {
	dryRun     bool
	awsOptions []func(*awsconfig.LoadOptions) error
}

// remind runs the reminders once, now, and prints what it found and did.
func remind(ctx context.Context, cfg config.Config, secrets config.Secrets, logger *slog.Logger, ro remindOptions, stdout io.Writer) error {
	awsCfg, err := loadAWS(ctx, cfg, ro.awsOptions...)
	if err != nil {
		return err
	}
	iamClient := reset.NewIAMClient(awsCfg, reset.RetryOptions{}, reset.CallTimeout(cfg.AWS.CallTimeout.D()))
	signIn, err := consoleURL(ctx, cfg, iamClient, sts.NewFromConfig(awsCfg), awsCfg.Region)
	if err != nil {
		return err
	}
	// A dry run records nothing, so it does not open the store: it works
	// beside a running bot and creates no database.
	var st reminder.Store = noStore{}
	if !ro.dryRun {
		s, err := openStore(ctx, cfg, secrets.DatabaseURL, logger)
		if err != nil {
			return err
		}
		defer s.Close()
		st = s
	}
	rem, err := reminder.New(reminderOptions(cfg, secrets, iamClient, st, signIn, logger, nil))
	if err != nil {
		return err
	}
	rep, err := rem.RunOnce(ctx, time.Now(), ro.dryRun)
	if err != nil {
		return err
	}
	return printReminders(stdout, rep, ro.dryRun)
}

// noStore stands in for the store in a dry run, which never records.
type noStore struct{}

func (noStore) ClaimOnce(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("dry run: reminders are not recorded")
}

// reminderOptions wires reminders the way run and remind share.
func reminderOptions(cfg config.Config, secrets config.Secrets, iamClient reminder.IAM, st reminder.Store, consoleURL string,
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

// printReminders writes a run's report as a table.
func printReminders(w io.Writer, rep reminder.Report, dryRun bool) error {
	if rep.NoExpiry {
		fmt.Fprintf(w, "Passwords in this account never expire (from the %s): no reminders.\n", rep.Source)
		return nil
	}
	fmt.Fprintf(w, "Expiry dates from the %s; %d listed user(s) expire within 7 days.\n", rep.Source, rep.ExpiringSoon)
	if len(rep.Reminders) == 0 {
		fmt.Fprintln(w, "No reminders due now.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLACK USER\tIAM USER\tEXPIRES\tZONE\tREMINDER\tOUTCOME")
	failed := 0
	for _, e := range rep.Reminders {
		what := fmt.Sprintf("%d days before", e.Days)
		if e.Days == 1 {
			what = "1 day before"
		}
		switch {
		case e.Key == "":
			what = "?" // the person could not be looked up
		case e.Expired():
			what = "expired"
		}
		zone := "?"
		if e.Zone != nil {
			zone = e.Zone.String()
		}
		outcome := string(e.Outcome)
		switch {
		case e.Outcome == reminder.Due && e.Zone != nil:
			if since := e.DueSince.In(e.Zone).Format(time.DateOnly); since != rep.At.In(e.Zone).Format(time.DateOnly) {
				outcome = "due since " + since + ": sent then unless the bot was down"
			} else {
				outcome = "due: new today"
			}
		case e.Err != nil:
			outcome += ": " + e.Err.Error()
		}
		if e.Outcome == reminder.Failed || e.Outcome == reminder.Lost {
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.SlackUser, e.IAMUser, e.Expires.UTC().Format("2006-01-02 15:04 UTC"), zone, what, outcome)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if dryRun {
		fmt.Fprintln(w, "Dry run: nothing was sent or recorded.")
	}
	if failed > 0 {
		return fmt.Errorf("%d reminder(s) not delivered", failed)
	}
	return nil
}
