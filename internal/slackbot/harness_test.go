package slackbot_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/leakcheck"
	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slackbot"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// The people of the fake workspace.
const (
	alice    = "U0ALICE001" // listed, console password, MFA
	bob      = "U0BOB00001" // not listed
	carol    = "U0CAROL001" // listed, no console password
	admin    = "U0ADMIN001" // approver
	admin2   = "U0ADMIN002" // approver through a user group
	guest    = "U0GUEST001" // listed, but a guest
	gone     = "U0GONE0001" // listed, but deactivated
	robot    = "U0ROBOT001" // listed, but a bot
	outsider = "U0OUTSIDE1" // listed, but from another workspace

	approvalChannel = "C0APPROVE1"
	adminGroup      = "S0ADMINS01"
	consoleURL      = "https://example-co.signin.aws.amazon.com/console"
)

// harness runs a real Bot against the fake Slack and the fake IAM, with a
// real SQLite store in a temp dir.
type harness struct {
	t      *testing.T
	slack  *fakeslack.Server
	iam    *fakeaws.Server
	cfg    config.Config
	store  *store.SQLite
	dbPath string
	logs   *leakcheck.Buffer
	bot    *slackbot.Bot
	cancel context.CancelFunc
	done   chan error
	edit   func(*slackbot.Options)
	clock  *testClock
}

// testClock is the bot's clock in tests: real time plus an offset that
// tests move forward.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

type harnessOption func(*harness)

func withConfig(f func(*config.Config)) harnessOption {
	return func(h *harness) { f(&h.cfg) }
}

func withOptions(f func(*slackbot.Options)) harnessOption {
	return func(h *harness) { h.edit = f }
}

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, logs: &leakcheck.Buffer{}, clock: &testClock{}}
	h.slack = fakeslack.New(fakeslack.Options{})
	t.Cleanup(h.slack.Close)
	h.iam = fakeaws.New(fakeaws.Options{AccountAlias: "example-co"})
	t.Cleanup(h.iam.Close)

	for _, u := range []fakeslack.User{
		{ID: alice, Name: "alice"}, {ID: bob, Name: "bob"}, {ID: carol, Name: "carol"},
		{ID: admin, Name: "admin"}, {ID: admin2, Name: "admin2"},
		{ID: guest, Name: "guest", IsRestricted: true}, {ID: gone, Name: "gone", Deleted: true},
		{ID: robot, Name: "robot", IsBot: true}, {ID: outsider, Name: "outsider", TeamID: "T0OTHER001"},
	} {
		h.slack.AddUser(u)
	}
	h.slack.AddUserGroup(adminGroup, admin2)
	h.slack.AddChannel(approvalChannel, fakeslack.BotUserID, admin, admin2)
	for _, u := range []fakeaws.User{
		{Name: "alice", LoginProfile: true, MFADevices: 1},
		{Name: "carol", LoginProfile: false, MFADevices: 1},
		{Name: "guest", LoginProfile: true}, {Name: "gone", LoginProfile: true},
		{Name: "robot", LoginProfile: true}, {Name: "outsider", LoginProfile: true},
		{Name: "adminuser", LoginProfile: true, MFADevices: 1},
	} {
		h.iam.AddUser(u)
	}

	h.dbPath = filepath.Join(t.TempDir(), "aws-reset.db")
	h.cfg = config.Default()
	h.cfg.Slack.APIURL = h.slack.APIURL()
	h.cfg.Store.Path = h.dbPath
	h.cfg.Reset.Cooldown = 0
	h.cfg.Users = []config.User{
		{SlackUser: alice, IAMUser: "alice"}, {SlackUser: carol, IAMUser: "carol"},
		{SlackUser: guest, IAMUser: "guest"}, {SlackUser: gone, IAMUser: "gone"},
		{SlackUser: robot, IAMUser: "robot"}, {SlackUser: outsider, IAMUser: "outsider"},
		{SlackUser: admin, IAMUser: "adminuser"},
	}
	for _, o := range opts {
		o(h)
	}
	if err := h.cfg.Validate(); err != nil {
		t.Fatalf("harness config: %v", err)
	}
	t.Cleanup(h.scanForSecrets)
	return h
}

// withApproval turns approvals on.
func withApproval() harnessOption {
	return withConfig(func(c *config.Config) {
		c.Approval.Channel = approvalChannel
		c.Approval.Approvers = []string{admin, adminGroup}
	})
}

// start runs the bot and waits until it is connected.
func (h *harness) start() {
	h.t.Helper()
	h.launch()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := h.slack.WaitConnected(wctx); err != nil {
		h.t.Fatalf("bot never connected: %v", err)
	}
}

// launch runs the bot without waiting for it to connect.
func (h *harness) launch() {
	h.t.Helper()
	st, err := store.Open(context.Background(), h.dbPath)
	if err != nil {
		h.t.Fatalf("store.Open: %v", err)
	}
	h.store = st
	gen, err := password.NewGenerator(h.cfg.Reset.PasswordLength)
	if err != nil {
		h.t.Fatal(err)
	}
	iamClient := awsclient.New(h.iam.Config(), awsclient.Options{Retry: awsclient.RetryOptions{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}}).IAM
	opts := slackbot.Options{
		Config:   h.cfg,
		Secrets:  config.Secrets{AppToken: fakeslack.AppToken, BotToken: fakeslack.BotToken},
		Resetter: reset.New(iamClient, gen, reset.Options{}),
		Store:    st, ConsoleURL: consoleURL,
		Logger:          slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ShutdownTimeout: 10 * time.Second,
		Now:             h.clock.Now,
		SweepInterval:   20 * time.Millisecond,
		HoldQuiet:       5 * time.Millisecond, // TestHoldback covers the held work's timing
		SlackRetry: &slack.RetryConfig{MaxRetries: 3, RetryAfterDuration: time.Second,
			BackoffInitial: time.Millisecond, BackoffMax: 10 * time.Millisecond},
	}
	if h.edit != nil {
		h.edit(&opts)
	}
	bot, err := slackbot.New(opts)
	if err != nil {
		h.t.Fatalf("slackbot.New: %v", err)
	}
	h.bot = bot
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- bot.Run(ctx) }()
	h.t.Cleanup(func() { h.stop() })
}

// stop ends the bot as SIGTERM would and returns what Run returned.
func (h *harness) stop() error {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	h.cancel = nil
	var err error
	select {
	case err = <-h.done:
	case <-time.After(20 * time.Second):
		h.t.Fatal("Run did not return after cancel")
	}
	h.store.Close()
	return err
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	h.t.Cleanup(cancel)
	return ctx
}

// startWithResetHeld starts the bot with IAM holding every
// UpdateLoginProfile, has alice ask for a reset (acked), and returns once
// her reset is held; release lets IAM answer.
func (h *harness) startWithResetHeld() (release func()) {
	h.t.Helper()
	release = h.iam.Hold("UpdateLoginProfile")
	h.start()
	h.t.Cleanup(release) // runs before the bot is stopped
	h.command(alice, "")
	if _, err := h.iam.WaitHeld(h.ctx(), "UpdateLoginProfile"); err != nil {
		h.t.Fatal(err)
	}
	return release
}

// command types the slash command as user and waits for the ack.
func (h *harness) command(user, text string) fakeslack.Ack {
	h.t.Helper()
	id, err := h.slack.SlashCommand(h.ctx(), fakeslack.SlashCommand{UserID: user, Text: text})
	if err != nil {
		h.t.Fatalf("SlashCommand: %v", err)
	}
	ack, err := h.slack.WaitAck(h.ctx(), id)
	if err != nil {
		h.t.Fatalf("WaitAck: %v", err)
	}
	return ack
}

// waitEphemeral waits for an ephemeral message to user whose text or
// blocks contain want.
func (h *harness) waitEphemeral(user, want string) fakeslack.Message {
	h.t.Helper()
	m, err := h.slack.WaitMessage(h.ctx(), func(m fakeslack.Message) bool {
		return m.Ephemeral && m.User == user && (strings.Contains(m.Text, want) || strings.Contains(string(m.Blocks), want))
	})
	if err != nil {
		h.t.Fatalf("no ephemeral message to %s containing %q; messages: %s", user, want, h.dump())
	}
	return m
}

// waitDM waits for a lasting message in user's DM containing want.
func (h *harness) waitDM(user, want string) fakeslack.Message {
	h.t.Helper()
	dm := h.slack.DMChannel(user)
	m, err := h.slack.WaitMessage(h.ctx(), func(m fakeslack.Message) bool {
		return !m.Ephemeral && m.Channel == dm && strings.Contains(m.Text+string(m.Blocks), want)
	})
	if err != nil {
		h.t.Fatalf("no DM to %s containing %q; messages: %s", user, want, h.dump())
	}
	return m
}

func (h *harness) dump() string {
	var b strings.Builder
	for _, m := range h.slack.Messages() {
		b.WriteString("\n  ")
		b.WriteString(m.Channel + " " + m.User + " " + m.Text)
	}
	return b.String()
}

var passwordInBlocks = regexp.MustCompile("\\n\\n`([^`]+)`\\n\\n")

// passwordOf pulls the password out of a password message's blocks.
func passwordOf(t *testing.T, m fakeslack.Message) string {
	t.Helper()
	var blocks []struct {
		Text struct{ Text string } `json:"text"`
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatalf("blocks: %v", err)
	}
	for _, b := range blocks {
		if sm := passwordInBlocks.FindStringSubmatch(b.Text.Text); sm != nil {
			return sm[1]
		}
	}
	t.Fatalf("no password in message %q", m.Blocks)
	return ""
}

// scanForSecrets fails the test if a password IAM received, a token or the
// AWS secret key appears in the logs or the store file.
func (h *harness) scanForSecrets() {
	logs := h.logs.String()
	db, _ := os.ReadFile(h.dbPath)
	wal, _ := os.ReadFile(h.dbPath + "-wal")
	secrets := append(fakeslack.Secrets(), h.iam.Secrets()...)
	for _, leak := range leakcheck.Find(secrets, map[string][]byte{
		"the logs": []byte(logs), "the store file": db, "the store's WAL": wal,
	}) {
		h.t.Error(leak)
	}
	if h.t.Failed() {
		h.t.Logf("logs:\n%s", logs)
	}
}

// seen snapshots the messages so far, for waitNew.
func (h *harness) seen() map[string]bool {
	seen := map[string]bool{}
	for _, m := range h.slack.Messages() {
		seen[m.Channel+"/"+m.TS] = true
	}
	return seen
}

// waitNew waits for a message not in seen that matches.
func (h *harness) waitNew(seen map[string]bool, match func(fakeslack.Message) bool) fakeslack.Message {
	h.t.Helper()
	m, err := h.slack.WaitMessage(h.ctx(), func(m fakeslack.Message) bool {
		return !seen[m.Channel+"/"+m.TS] && match(m)
	})
	if err != nil {
		h.t.Fatalf("no such new message; messages: %s", h.dump())
	}
	return m
}
