// Package reminder warns people in Slack before their AWS console password
// expires. People rarely open the console, so they miss its own warning;
// Slack is where they are.
//
// Once a day per person, at reminders.at in their time zone, it reads when
// each listed IAM user's password expires (from the IAM credential report,
// or from the login profile and the password policy when the report can't
// be had) and sends a direct message when the expiry has come within one
// of reminders.days_before, and once more when it has passed.
//
// # Exactly which reminder, and at most once
//
// At a person's daily time the run looks at how many calendar days, in the
// person's zone, are left until the expiry, and picks the smallest
// threshold that many days have crossed. That threshold's reminder is sent
// unless it was already sent for this expiry date. So a bot that runs every
// day sends each threshold once, in order; a bot that was down over a
// threshold (or turned on late) sends only the nearest one, never a burst.
//
// Each reminder is recorded in the store under a key naming the person,
// the IAM user, the threshold and the expiry date before it is posted. The
// store answers true to one caller only, so restarts and several replicas
// never send one twice. If the bot dies between recording and posting, or
// the post fails after Slack's retries, that reminder is lost: the choice
// is at most once, since a reminder is advice (the next threshold and the
// expiry notice still come) and a duplicate DM from several replicas would
// teach people to ignore them.
package reminder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
)

// IAM is the part of the IAM API a run calls.
type IAM interface {
	GetAccountPasswordPolicy(ctx context.Context, in *iam.GetAccountPasswordPolicyInput, opts ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
	GenerateCredentialReport(ctx context.Context, in *iam.GenerateCredentialReportInput, opts ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(ctx context.Context, in *iam.GetCredentialReportInput, opts ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
	GetLoginProfile(ctx context.Context, in *iam.GetLoginProfileInput, opts ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
}

// Slack is the part of the Slack Web API a run calls; *slack.Client has it.
type Slack interface {
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
	OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
}

// Store records which reminders were sent.
type Store interface {
	// ClaimOnce records key and reports whether this call was the
	// first to do so.
	ClaimOnce(ctx context.Context, key string, at time.Time) (bool, error)
}

// Options configures a Reminder.
type Options struct {
	// Config supplies reminders.*, users, slack.command, reset.protected
	// and aws.call_timeout.
	Config config.Config
	IAM    IAM
	Slack  Slack
	Store  Store
	// ConsoleURL is the account's sign-in URL, as the bot shows it with a
	// new password.
	ConsoleURL string
	Logger     *slog.Logger
	Metrics    *metrics.Metrics // may be nil
	// Account is the aws.accounts entry this Reminder reads, whose users
	// alone it reminds ("" = the bot's own account, and its users), with
	// IAM on that account's role; AccountID names it in the messages. One
	// Reminder per account.
	Account, AccountID string

	// Now is the clock; default time.Now.
	Now func() time.Time
	// After is the timer Run sleeps on, read with the same clock as Now;
	// default time.After.
	After func(time.Duration) <-chan time.Time

	// ReportAttempts bounds the GenerateCredentialReport rounds while the
	// report is being generated; default 8.
	ReportAttempts int
	// ReportBackoff is the first pause between those rounds, doubled each
	// round up to 30s; default 2s. It is real time: tests shorten it.
	ReportBackoff time.Duration
	// RetryAfter is how soon Run tries again after a run that could not
	// learn the expiry dates; default 15m.
	RetryAfter time.Duration
	// ZoneTTL is how long a person's Slack time zone is remembered;
	// default 12h.
	ZoneTTL time.Duration
}

// Reminder sends the reminders. Make one with New. It is safe for
// concurrent use, though one Run per process is enough.
type Reminder struct {
	opts      Options
	log       *slog.Logger
	metrics   *metrics.Metrics
	now       func() time.Time
	users     []config.User // of opts.Account
	days      []int         // ascending
	hour, min int
	zone      *time.Location // nil: each person's own
	command   string
	protected []string
	signIn    string
	change    string

	mu             sync.Mutex
	zones          map[string]cachedZone // by Slack user ID
	dms            map[string]string     // DM channel ID by Slack user ID; DM IDs never change
	watched        map[string]bool       // Slack users near or past expiry at the last run
	noExpiryLogged bool
}

// New checks the options and builds a Reminder. It makes no network call.
func New(opts Options) (*Reminder, error) {
	if opts.IAM == nil || opts.Slack == nil || opts.Store == nil || opts.Logger == nil {
		return nil, errors.New("reminder: IAM, Slack, Store and Logger are required")
	}
	rc := opts.Config.Reminders
	hour, minute, ok := rc.TimeOfDay()
	if !ok {
		return nil, fmt.Errorf("reminder: reminders.at %q is not HH:MM", rc.At)
	}
	zone, err := rc.Location()
	if err != nil {
		return nil, fmt.Errorf("reminder: reminders.time_zone: %w", err)
	}
	if len(rc.DaysBefore) == 0 {
		return nil, errors.New("reminder: reminders.days_before is empty")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.ReportAttempts <= 0 {
		opts.ReportAttempts = 8
	}
	if opts.ReportBackoff <= 0 {
		opts.ReportBackoff = 2 * time.Second
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 15 * time.Minute
	}
	if opts.ZoneTTL <= 0 {
		opts.ZoneTTL = 12 * time.Hour
	}
	days := slices.Clone(rc.DaysBefore)
	slices.Sort(days)
	return &Reminder{
		opts:      opts,
		log:       opts.Logger,
		metrics:   opts.Metrics,
		now:       opts.Now,
		users:     usersIn(opts.Config.Users, opts.Account),
		days:      slices.Compact(days),
		hour:      hour,
		min:       minute,
		zone:      zone,
		command:   opts.Config.Slack.Command,
		protected: slices.Clone(opts.Config.Reset.Protected),
		signIn:    opts.ConsoleURL,
		change:    changePasswordURL(opts.ConsoleURL),
		zones:     map[string]cachedZone{},
		dms:       map[string]string{},
		watched:   map[string]bool{},
	}, nil
}

// Log keys.
const (
	keySlackUser = "slack_user"
	keyIAMUser   = "iam_user"
	keyDays      = "days"
	keyExpires   = "expires"
	keyKey       = "reminder_key"
	keyOutcome   = "outcome"
	keySource    = "source"
	keyError     = "error"
)

// RunOnce reads the expiry dates and sends every reminder due at now: for
// each listed person whose daily time has come today (in their zone), the
// reminder their daily time calls for. Running it again the same day sends
// nothing new. With dryRun it only reports what is due: it neither records
// nor posts anything (it still reads IAM and users.info).
//
// The error is for a run that could not learn the expiry dates; a reminder
// that fails is in the report, and logged.
func (r *Reminder) RunOnce(ctx context.Context, now time.Time, dryRun bool) (Report, error) {
	rep := Report{At: now}
	exp, err := r.expiries(ctx)
	if err != nil {
		return rep, err
	}
	rep.Source = exp.source
	if exp.none {
		rep.NoExpiry = true
		r.mu.Lock()
		first := !r.noExpiryLogged
		r.noExpiryLogged = true
		r.watched = map[string]bool{}
		r.mu.Unlock()
		if first {
			r.log.Info("passwords in this AWS account never expire (no maximum password age in the password policy): no reminders to send",
				slog.String(keySource, exp.source))
		}
		r.metrics.ExpiringSoonIn(r.opts.Account, 0)
		return rep, nil
	}
	r.mu.Lock()
	r.noExpiryLogged = false
	r.mu.Unlock()

	// Whoever expires later than this cannot be due today in any zone:
	// their time zone is not even looked up.
	horizon := now.Add(time.Duration(r.days[len(r.days)-1]+2) * 24 * time.Hour)
	watched := map[string]bool{}
	for _, u := range r.users {
		e, ok := exp.byUser[strings.ToLower(u.IAMUser)]
		if !ok {
			continue
		}
		if e.expires.After(now) && !e.expires.After(now.Add(soonWindow)) {
			rep.ExpiringSoon++
		}
		if e.expires.After(horizon) {
			continue
		}
		watched[u.SlackUser] = true
		entry, due := r.check(ctx, u, e, now)
		if !due {
			continue
		}
		switch {
		case entry.Outcome != "":
			// The person could not be looked up; already logged.
		case dryRun:
			entry.Outcome = Due
			r.log.Info("reminder due (dry run: not sent)", entry.attrs()...)
		default:
			r.send(ctx, &entry, now, e.protected)
		}
		rep.Reminders = append(rep.Reminders, entry)
	}
	r.mu.Lock()
	r.watched = watched
	r.mu.Unlock()
	r.metrics.ExpiringSoonIn(r.opts.Account, rep.ExpiringSoon)
	return rep, nil
}

// check decides whether u is due a reminder at now. An entry with an
// Outcome already set is one whose person could not be looked up.
func (r *Reminder) check(ctx context.Context, u config.User, e expiry, now time.Time) (Entry, bool) {
	entry := Entry{SlackUser: u.SlackUser, IAMUser: u.IAMUser, Account: r.opts.Account, Expires: e.expires}
	zone, err := r.zoneOf(ctx, u.SlackUser, now)
	switch {
	case errors.Is(err, errDeactivated):
		entry.Outcome, entry.Err = Skipped, err
		r.log.Debug("not reminding a deactivated Slack user", entry.attrs()...)
		return entry, false
	case err != nil:
		entry.Outcome, entry.Err = Failed, err
		r.log.Warn("could not learn a person's time zone: no reminder this run", entry.attrs()...)
		return entry, true
	}
	d, due := decide(e.expires, now, zone, r.hour, r.min, r.days)
	if !due {
		return entry, false
	}
	entry.Zone = zone
	entry.Days, entry.DaysLeft, entry.DueSince = d.days, d.daysLeft, d.dueSince
	entry.Key = reminderKey(u.SlackUser, r.opts.Account, u.IAMUser, d.days, e.expires)
	return entry, true
}

// reminderKey names a reminder in the store: one per person, account, IAM
// user, threshold ("expired" for the notice after expiry) and expiry date,
// so a new password starts afresh. The bot's own account keeps the keys it
// had before accounts, so no reminder is sent twice across the upgrade.
func reminderKey(slackUser, account, iamUser string, days int, expires time.Time) string {
	threshold := fmt.Sprint(days)
	if days == 0 {
		threshold = "expired"
	}
	if account != "" {
		iamUser = account + ":" + iamUser // ':' is in no IAM user name
	}
	return fmt.Sprintf("reminder/%s/%s/%s/%s", slackUser, iamUser, threshold, expires.UTC().Format(time.DateOnly))
}

// send records the reminder, then posts it. The DM is opened first, so a
// person Slack cannot reach yet is tried again at the next run instead of
// being recorded as reminded.
func (r *Reminder) send(ctx context.Context, e *Entry, now time.Time, protected bool) {
	fail := func(o Outcome, err error, msg string) {
		e.Outcome, e.Err = o, err
		r.log.Warn(msg, e.attrs()...)
	}
	dm, err := r.openDM(ctx, e.SlackUser)
	if err != nil {
		fail(Failed, err, "could not open a DM for a reminder: trying again at the next run")
		return
	}
	first, err := r.opts.Store.ClaimOnce(ctx, e.Key, now)
	if err != nil {
		fail(Failed, fmt.Errorf("record reminder: %w", err), "could not record a reminder, so it was not sent: trying again at the next run")
		return
	}
	if !first {
		e.Outcome = AlreadySent
		r.log.Debug("reminder already sent", e.attrs()...)
		return
	}
	m := r.message(*e, protected)
	if _, _, err := r.opts.Slack.PostMessageContext(ctx, dm,
		m.Options()...); err != nil {
		fail(Lost, fmt.Errorf("chat.postMessage to %s: %w", dm, err), "reminder recorded but not delivered: it is not sent again (at most once)")
		return
	}
	e.Outcome = Sent
	r.metrics.ReminderSent(e.Days)
	r.log.Info("reminder sent", e.attrs()...)
}

// openDM returns the bot's DM channel with a person, asking Slack once.
func (r *Reminder) openDM(ctx context.Context, userID string) (string, error) {
	r.mu.Lock()
	id, ok := r.dms[userID]
	r.mu.Unlock()
	if ok {
		return id, nil
	}
	ch, _, _, err := r.opts.Slack.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userID}})
	if err != nil {
		return "", fmt.Errorf("conversations.open with %s: %w", userID, err)
	}
	r.mu.Lock()
	r.dms[userID] = ch.ID
	r.mu.Unlock()
	return ch.ID, nil
}

func (e Entry) attrs() []any {
	attrs := []any{slog.String(keySlackUser, e.SlackUser), slog.String(keyIAMUser, e.IAMUser),
		slog.String("account", e.Account), slog.Time(keyExpires, e.Expires)}
	if e.Key != "" {
		attrs = append(attrs, slog.Int(keyDays, e.Days), slog.String(keyKey, e.Key))
	}
	if e.Outcome != "" {
		attrs = append(attrs, slog.String(keyOutcome, string(e.Outcome)))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.Any(keyError, e.Err))
	}
	return attrs
}
