package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/serve"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slackbot"
)

// The demo's people and the approvers' channel.
const (
	alice     = "U0ALICE001"
	bob       = "U0BOB00001"
	admin     = "U0ADMIN001"
	approvals = "C0APPROVE1"
)

// names are the demo's people and channel as the output names them.
var names = map[string]string{alice: "alice", bob: "bob", admin: "admin", approvals: "#approvals"}

// The action IDs of the buttons the demo presses, as the bot sets them.
const (
	actionApprove = "aws_reset_approve"
	actionReveal  = "aws_reset_reveal"
)

// world is the demo's fake Slack and fake IAM, its one clock and its bot
// configuration.
type world struct {
	clock *clock
	slack *fakeslack.Server
	iam   *fakeaws.Server
	cfg   config.Config
	dir   string
}

// newWorld starts the fakes with the demo's people: alice may reset her
// own password, bob needs an approver, admin approves.
func newWorld() (*world, error) {
	w := &world{clock: &clock{}}
	w.slack = fakeslack.New(fakeslack.Options{Now: w.clock.Now})
	w.iam = fakeaws.New(fakeaws.Options{AccountAlias: "example-co", Now: w.clock.Now})
	for _, id := range []string{alice, bob, admin} {
		w.slack.AddUser(fakeslack.User{ID: id, Name: names[id]})
	}
	w.slack.AddNamedChannel(approvals, "approvals", fakeslack.BotUserID, admin)
	w.iam.AddUser(fakeaws.User{Name: "alice", LoginProfile: true, MFADevices: 1})
	w.iam.AddUser(fakeaws.User{Name: "bob", LoginProfile: true, MFADevices: 1})
	w.iam.SetPasswordPolicy(&fakeaws.PasswordPolicy{MinimumPasswordLength: 14, RequireSymbols: true, RequireNumbers: true,
		RequireUppercaseCharacters: true, RequireLowercaseCharacters: true})

	dir, err := os.MkdirTemp("", "aws-reset-demo-")
	if err != nil {
		w.close()
		return nil, err
	}
	w.dir = dir
	cfg := config.Default()
	cfg.Slack.APIURL = w.slack.APIURL()
	cfg.Store.Path = filepath.Join(dir, "aws-reset.db")
	cfg.Reset.Cooldown = 0
	cfg.Approval = config.Approval{Channel: approvals, Approvers: []string{admin}, Timeout: config.Duration(30 * time.Minute)}
	no, yes := false, true
	cfg.Users = []config.User{
		{SlackUser: alice, IAMUser: "alice", Approval: &no},
		{SlackUser: bob, IAMUser: "bob", Approval: &yes},
	}
	if err := cfg.Validate(); err != nil {
		w.close()
		return nil, fmt.Errorf("demo config: %w", err)
	}
	w.cfg = cfg
	return w, nil
}

func (w *world) close() {
	w.slack.Close()
	w.iam.Close()
	if w.dir != "" {
		_ = os.RemoveAll(w.dir)
	}
}

// demo runs the real bot against the in-process fake Slack and fake IAM
// the tests use, plays a reset and an approval through, and prints what
// each side saw. It needs no tokens, credentials or network.
func demo(ctx context.Context, verbose bool, stdout io.Writer) error {
	w, err := newWorld()
	if err != nil {
		return err
	}
	defer w.close()
	return w.play(ctx, verbose, stdout)
}

// play runs the bot, sends what the people do, and prints the timeline
// after each step.
func (w *world) play(ctx context.Context, verbose bool, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	t := newTimeline(stdout, w)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	// settle waits, with -v, for the log line a step ends with.
	settle := func(string) error { return nil }
	if verbose {
		logger = slog.New(slog.NewTextHandler(t.logSink(), &slog.HandlerOptions{ReplaceAttr: dropTime}))
		settle = func(msg string) error { return t.waitLog(ctx, msg) }
	}

	fmt.Fprintln(stdout, "aws-reset-bot demo: the real bot, talking over the wire to an in-process fake Slack and fake IAM.")
	fmt.Fprintln(stdout, "Every call is shown in the order it was made. Passwords are masked here; in Slack only their owner sees them.")
	t.step("0. The bot starts: it looks up the AWS account's sign-in URL and connects to Slack.")
	botDone := make(chan error, 1)
	ready := make(chan *slackbot.Bot, 1)
	runCtx, stopBot := context.WithCancel(ctx)
	defer stopBot()
	go func() {
		botDone <- serve.Run(runCtx, w.cfg, config.Secrets{AppToken: fakeslack.AppToken, BotToken: fakeslack.BotToken}, logger, serve.Options{
			Version: "demo",
			AWSOptions: []func(*awsconfig.LoadOptions) error{
				awsconfig.WithRegion(fakeaws.Region),
				awsconfig.WithBaseEndpoint(w.iam.URL()),
				awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(fakeaws.AccessKeyID, fakeaws.SecretAccessKey, "")),
			},
			Retry: awsclient.RetryOptions{BaseDelay: 10 * time.Millisecond},
			Ready: ready,
		})
	}()
	select {
	case <-ready:
	case err := <-botDone:
		return fmt.Errorf("the bot did not start: %w", err)
	}
	if err := w.slack.WaitConnected(ctx); err != nil {
		return fmt.Errorf("the bot did not connect: %w", err)
	}
	if err := settle("socket mode connected"); err != nil {
		return err
	}
	t.show()

	t.step("1. alice types /aws-reset. She may reset her own password without approval.")
	if err := w.command(ctx, t, alice); err != nil {
		return err
	}
	if err := w.waitFor(ctx, func(m fakeslack.Message) bool { return m.Channel == fakeslack.DMChannel(alice) && hasNote(m) }); err != nil {
		return err
	}
	t.show()

	t.step("2. bob types /aws-reset. An approver must say yes first.")
	if err := w.command(ctx, t, bob); err != nil {
		return err
	}
	approval, err := w.slack.WaitMessage(ctx, func(m fakeslack.Message) bool { return m.Channel == approvals })
	if err != nil {
		return fmt.Errorf("demo: no approval request: %w", err)
	}
	if err := w.waitFor(ctx, func(m fakeslack.Message) bool {
		return m.Channel == fakeslack.DMChannel(bob) && m.User == bob
	}); err != nil {
		return err
	}
	t.show()

	t.step("3. admin presses Approve in #approvals.")
	if err := w.press(ctx, t, admin, approval, actionApprove); err != nil {
		return err
	}
	offerOf := func(m fakeslack.Message) bool {
		return m.Channel == fakeslack.DMChannel(bob) && hasButton(m.Blocks, actionReveal)
	}
	offer, err := w.slack.WaitMessage(ctx, offerOf)
	if err != nil {
		return fmt.Errorf("demo: no offer to bob: %w", err)
	}
	if err := w.waitFor(ctx, func(m fakeslack.Message) bool { return m.Channel == approvals && m.Updates > 0 }); err != nil {
		return err
	}
	if err := settle("waiting for the owner"); err != nil {
		return err
	}
	t.show()

	t.step("4. bob presses \"Show my new password\". The reset waits for his click, so he is surely looking.")
	if err := w.press(ctx, t, bob, offer, actionReveal); err != nil {
		return err
	}
	if err := w.waitFor(ctx, func(m fakeslack.Message) bool { return m.Channel == offer.Channel && hasNote(m) }); err != nil {
		return err
	}
	if err := w.waitFor(ctx, func(m fakeslack.Message) bool { return m.Channel == offer.Channel && m.TS == offer.TS && m.Updates > 0 }); err != nil {
		return err
	}
	t.show()

	if verbose {
		t.step("5. The bot stops, as on SIGTERM: it finishes what is in flight first.")
	}
	stopBot()
	if err := <-botDone; err != nil {
		return err
	}
	t.show()
	if t.err != nil {
		return t.err
	}
	fmt.Fprintln(stdout, "\nDone. Run it for real: go run ./bot run --config config.yaml (see README.md).")
	return nil
}

// command sends /aws-reset from user and waits for its ack.
func (w *world) command(ctx context.Context, t *timeline, user string) error {
	t.sent(fmt.Sprintf("slash_commands: %s typed /aws-reset in their DM with the bot", t.who(user)))
	id, err := w.slack.SlashCommand(ctx, fakeslack.SlashCommand{UserID: user})
	if err != nil {
		return err
	}
	t.envelope(id, user)
	_, err = w.slack.WaitAck(ctx, id)
	return err
}

// press sends user's click on the button actionID of m and waits for its
// ack.
func (w *world) press(ctx context.Context, t *timeline, user string, m fakeslack.Message, actionID string) error {
	b, ok := buttonOf(m.Blocks, actionID)
	if !ok {
		return fmt.Errorf("demo: no %s button in the message", actionID)
	}
	t.sent(fmt.Sprintf("block_actions: %s pressed [%s] in %s", t.who(user), b.label(), t.where(m.Channel)))
	id, err := w.slack.BlockAction(ctx, fakeslack.BlockAction{UserID: user, ChannelID: m.Channel, MessageTS: m.TS,
		ActionID: actionID, Value: b.Value})
	if err != nil {
		return err
	}
	t.envelope(id, user)
	_, err = w.slack.WaitAck(ctx, id)
	return err
}

func (w *world) waitFor(ctx context.Context, match func(fakeslack.Message) bool) error {
	if _, err := w.slack.WaitMessage(ctx, match); err != nil {
		return fmt.Errorf("demo: the bot did not answer as expected: %w", err)
	}
	return nil
}

// hasNote reports whether m is the lasting note that a reset happened.
func hasNote(m fakeslack.Message) bool {
	return m.User == "" && strings.Contains(m.Text, "If this wasn't you")
}

// element is a block element: a button, or a context block's text.
type element struct {
	Type     string          `json:"type"`
	ActionID string          `json:"action_id"`
	Value    string          `json:"value"`
	Text     json.RawMessage `json:"text"` // a text object for a button, a string for a context text
}

// label is the element's text, whichever form it has.
func (e element) label() string {
	var s string
	if json.Unmarshal(e.Text, &s) == nil {
		return s
	}
	var obj struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(e.Text, &obj)
	return obj.Text
}

func buttonOf(blocks json.RawMessage, actionID string) (element, bool) {
	for _, b := range parseBlocks(blocks) {
		for _, e := range b.Elements {
			if e.Type == "button" && e.ActionID == actionID {
				return e, true
			}
		}
	}
	return element{}, false
}

func hasButton(blocks json.RawMessage, actionID string) bool {
	_, ok := buttonOf(blocks, actionID)
	return ok
}

// block is the part of a Block Kit block the demo prints.
type block struct {
	Type string `json:"type"`
	Text struct {
		Text string `json:"text"`
	} `json:"text"`
	Elements []element `json:"elements"` // an actions block's buttons, a context block's texts
}

func parseBlocks(raw json.RawMessage) []block {
	var list []block
	if len(raw) == 0 || json.Unmarshal(raw, &list) != nil {
		return nil
	}
	return list
}

// errMismatch means a password shown in Slack is not the one IAM set.
var errMismatch = errors.New("demo: a password shown in Slack is not the one IAM set")
