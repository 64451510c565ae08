package reminder_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/leakcheck"
	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reminder"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// The people of the fake workspace, each listed with an IAM user of their
// name.
const (
	alice = "U0ALICE001"
	bob   = "U0BOB00001"

	consoleURL = "https://example-co.signin.aws.amazon.com/console"
	maxAge     = 90 // the password policy's MaxPasswordAge, in days
)

// fakeClock is the one clock of a test: the fakes' timestamps, the
// reminder's Now, and the timers Run sleeps on. Timers fire only when the
// test moves the clock.
type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	timers  []fakeTimer
	changed chan struct{} // closed and replaced when a timer is added
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{t: t, changed: make(chan struct{})} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// After is Options.After on the fake clock.
func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.t
		return ch
	}
	c.timers = append(c.timers, fakeTimer{at: c.t.Add(d), ch: ch})
	close(c.changed)
	c.changed = make(chan struct{})
	return ch
}

// Set moves the clock to t and fires the timers due by then.
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if tm.at.After(t) {
			kept = append(kept, tm)
			continue
		}
		tm.ch <- t
	}
	c.timers = kept
}

// WaitTimer waits until a timer is pending and returns when it is due.
func (c *fakeClock) WaitTimer(ctx context.Context) (time.Time, bool) {
	for {
		c.mu.Lock()
		ch := c.changed
		if len(c.timers) > 0 {
			at := c.timers[0].at
			c.mu.Unlock()
			return at, true
		}
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return time.Time{}, false
		}
	}
}

// harness is a Reminder wired to the fake Slack and the fake IAM through
// the real clients, with a real SQLite store in a temp dir and one fake
// clock.
type harness struct {
	t       *testing.T
	clock   *fakeClock
	slack   *fakeslack.Server
	iam     *fakeaws.Server
	cfg     config.Config
	dbPath  string
	store   *store.SQLite
	logs    *leakcheck.Buffer
	reg     *prometheus.Registry
	rem     *reminder.Reminder
	options func(*reminder.Options)
}

// newHarness starts the fakes at start with alice and bob listed, in Slack
// time zones aliceTZ and bobTZ, the account's passwords lasting maxAge
// days, and nobody's password set yet (see setExpiry).
func newHarness(t *testing.T, start time.Time, aliceTZ, bobTZ string) *harness {
	t.Helper()
	h := &harness{t: t, clock: newClock(start), logs: &leakcheck.Buffer{}}
	h.slack = fakeslack.New(fakeslack.Options{Now: h.clock.Now})
	t.Cleanup(h.slack.Close)
	// Every action is allowed until a test says otherwise (SetAllowed).
	h.iam = fakeaws.New(fakeaws.Options{Now: h.clock.Now, AccountAlias: "example-co", EnforceAllowed: true})
	t.Cleanup(h.iam.Close)
	h.slack.AddUser(fakeslack.User{ID: alice, Name: "alice", TZ: aliceTZ})
	h.slack.AddUser(fakeslack.User{ID: bob, Name: "bob", TZ: bobTZ})
	h.iam.SetPasswordPolicy(&fakeaws.PasswordPolicy{MinimumPasswordLength: 12, MaxPasswordAge: maxAge})

	h.cfg = config.Default()
	h.cfg.Slack.APIURL = h.slack.APIURL()
	h.cfg.Reminders.Enabled = true
	h.cfg.Users = []config.User{{SlackUser: alice, IAMUser: "alice"}, {SlackUser: bob, IAMUser: "bob"}}
	h.dbPath = filepath.Join(t.TempDir(), "aws-reset.db")
	t.Cleanup(h.scanForSecrets)
	return h
}

// setExpiry gives an IAM user a console password that expires at t.
func (h *harness) setExpiry(iamUser string, t time.Time) {
	h.iam.AddUser(fakeaws.User{Name: iamUser, LoginProfile: true, PasswordCreated: t.AddDate(0, 0, -maxAge)})
}

// start opens the store and builds the Reminder, as a process start does.
func (h *harness) start() *reminder.Reminder {
	h.t.Helper()
	if err := h.cfg.Validate(); err != nil {
		h.t.Fatalf("harness config: %v", err)
	}
	st, err := store.Open(context.Background(), h.dbPath)
	if err != nil {
		h.t.Fatalf("store.Open: %v", err)
	}
	h.t.Cleanup(func() { st.Close() })
	h.store = st
	h.reg = prometheus.NewRegistry()
	opts := reminder.Options{
		Config:        h.cfg,
		IAM:           awsclient.New(h.iam.Config(), awsclient.Options{Retry: awsclient.RetryOptions{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}}).IAM,
		Slack:         slack.New(fakeslack.BotToken, slack.OptionAPIURL(h.slack.APIURL())),
		Store:         st,
		ConsoleURL:    consoleURL,
		Logger:        slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics:       metrics.New(h.reg),
		Now:           h.clock.Now,
		After:         h.clock.After,
		ReportBackoff: time.Millisecond,
	}
	if h.options != nil {
		h.options(&opts)
	}
	rem, err := reminder.New(opts)
	if err != nil {
		h.t.Fatalf("reminder.New: %v", err)
	}
	h.rem = rem
	return rem
}

// restart closes the store and starts again on the same file.
func (h *harness) restart() *reminder.Reminder {
	h.t.Helper()
	h.store.Close()
	return h.start()
}

// runAt moves the clock to t and runs once.
func (h *harness) runAt(t time.Time, dryRun bool) reminder.Report {
	h.t.Helper()
	h.clock.Set(t)
	rep, err := h.rem.RunOnce(h.ctx(), t, dryRun)
	if err != nil {
		h.t.Fatalf("RunOnce(%v, %v) = %v", t, dryRun, err)
	}
	return rep
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	h.t.Cleanup(cancel)
	return ctx
}

// dms returns the texts posted in a person's DM, oldest first.
func (h *harness) dms(user string) []fakeslack.Message {
	var out []fakeslack.Message
	for _, m := range h.slack.Messages() {
		if m.Channel == fakeslack.DMChannel(user) && !m.Ephemeral {
			out = append(out, m)
		}
	}
	return out
}

// gauge and counter read a metric from the harness registry; 0 if absent.
func (h *harness) metric(name string, labels map[string]string) float64 {
	h.t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// scanForSecrets fails the test if a token or the AWS secret key appears
// in the logs.
func (h *harness) scanForSecrets() {
	logs := h.logs.String()
	for _, leak := range leakcheck.Find(append(fakeslack.Secrets(), fakeaws.SecretAccessKey), map[string][]byte{"the logs": []byte(logs)}) {
		h.t.Error(leak)
	}
	if h.t.Failed() {
		h.t.Logf("logs:\n%s", logs)
	}
}

// date is 09:00 (or hh:mm) on a day of June 2024 in zone.
func date(day, hh, mm int, zone string) time.Time {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		panic(err)
	}
	return time.Date(2024, time.June, day, hh, mm, 0, 0, loc)
}
