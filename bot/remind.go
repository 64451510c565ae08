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

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reminder"
	"github.com/aws-reset-bot/aws-reset-bot/internal/serve"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// remindCommand sends the password expiry reminders due now, or with
// --dry-run shows them without sending or recording anything. It needs the
// tokens and AWS credentials, as run does.
func remindCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, path := newFlags("remind", stderr)
	dryRun := fs.Bool("dry-run", false, "show who would get which reminder now; send and record nothing")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
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
	awsCfg, err := awsclient.Load(ctx, cfg.AWS, ro.awsOptions...)
	if err != nil {
		return err
	}
	clients := awsclient.New(awsCfg, awsclient.FromConfig(cfg.AWS, nil))
	iamClient := clients.IAM
	signIn, err := serve.ConsoleURL(ctx, cfg, iamClient, clients.STS, awsCfg.Region)
	if err != nil {
		return err
	}
	// A dry run records nothing, so it does not open the store: it works
	// beside a running bot and creates no database.
	var st reminder.Store = noStore{}
	if !ro.dryRun {
		s, err := serve.OpenStore(ctx, cfg, secrets.DatabaseURL, logger)
		if err != nil {
			return err
		}
		defer s.Close()
		st = s
	}
	opts := awsclient.FromConfig(cfg.AWS, nil)
	gen, err := password.NewGenerator(cfg.Reset.PasswordLength)
	if err != nil {
		return err
	}
	accounts, accountClients := serve.Accounts(cfg, awsCfg, clients, opts, gen)
	var errs []error
	for _, o := range serve.EveryAccountReminders(cfg, secrets, iamClient, signIn, accounts, accountClients, st, logger, nil) {
		if len(cfg.AWS.Accounts) > 0 {
			fmt.Fprintf(stdout, "%s:\n", accountHeading(o.Account, o.AccountID))
		}
		rem, err := reminder.New(o)
		if err != nil {
			return err
		}
		rep, err := rem.RunOnce(ctx, time.Now(), ro.dryRun)
		if err != nil {
			// One account out of reach does not hide the others' reminders.
			fmt.Fprintf(stdout, "  could not read expiry dates: %v\n", err)
			errs = append(errs, err)
			continue
		}
		if err := printReminders(stdout, rep, ro.dryRun); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

func accountHeading(name, id string) string {
	if name == "" {
		return "The bot's own account"
	}
	return fmt.Sprintf("AWS account %s (%s)", name, id)
}

// noStore stands in for the store in a dry run, which never records.
type noStore struct{}

func (noStore) ClaimOnce(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("dry run: reminders are not recorded")
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
