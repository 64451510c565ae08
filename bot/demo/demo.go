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
	"regexp"
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

// The demo's people.
const (
	demoAlice = "U0ALICE001"
	demoBob   = "U0BOB00001"
	demoAdmin = "U0ADMIN001"
	demoAdmCh = "C0APPROVE1"
)

// demo runs the real bot against the in-process fake Slack and fake IAM
// the tests use, plays a reset and an approval through, and prints what
// each side saw. It needs no tokens, credentials or network.
func demo(ctx context.Context, verbose bool, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	slack := fakeslack.New(fakeslack.Options{})
	defer slack.Close()
	iam := fakeaws.New(fakeaws.Options{AccountAlias: "example-co"})
	defer iam.Close()
	for _, u := range []fakeslack.User{{ID: demoAlice, Name: "alice"}, {ID: demoBob, Name: "bob"}, {ID: demoAdmin, Name: "admin"}} {
		slack.AddUser(u)
	}
	slack.AddChannel(demoAdmCh, fakeslack.BotUserID, demoAdmin)
	iam.AddUser(fakeaws.User{Name: "alice", LoginProfile: true, MFADevices: 1})
	iam.AddUser(fakeaws.User{Name: "bob", LoginProfile: true, MFADevices: 1})
	iam.SetPasswordPolicy(&fakeaws.PasswordPolicy{MinimumPasswordLength: 14, RequireSymbols: true, RequireNumbers: true,
		RequireUppercaseCharacters: true, RequireLowercaseCharacters: true})

	cfg := config.Default()
	cfg.Slack.APIURL = slack.APIURL()
	dir, err := os.MkdirTemp("", "aws-reset-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg.Store.Path = filepath.Join(dir, "aws-reset.db")
	cfg.Reset.Cooldown = 0
	cfg.Approval = config.Approval{Channel: demoAdmCh, Approvers: []string{demoAdmin}, Timeout: config.Duration(30 * time.Minute)}
	no, yes := false, true
	cfg.Users = []config.User{
		{SlackUser: demoAlice, IAMUser: "alice", Approval: &no},
		{SlackUser: demoBob, IAMUser: "bob", Approval: &yes},
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	logOut := io.Discard
	if verbose {
		logOut = stderr
	}
	logger := slog.New(slog.NewTextHandler(logOut, nil))

	botDone := make(chan error, 1)
	ready := make(chan *slackbot.Bot, 1)
	runCtx, stopBot := context.WithCancel(ctx)
	defer stopBot()
	go func() {
		botDone <- serve.Run(runCtx, cfg, config.Secrets{AppToken: fakeslack.AppToken, BotToken: fakeslack.BotToken}, logger, serve.Options{
			Version: "demo",
			AWSOptions: []func(*awsconfig.LoadOptions) error{
				awsconfig.WithRegion(fakeaws.Region),
				awsconfig.WithBaseEndpoint(iam.URL()),
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
	if err := slack.WaitConnected(ctx); err != nil {
		return fmt.Errorf("the bot did not connect: %w", err)
	}

	p := &demoPrinter{w: stdout, slack: slack, iam: iam}
	fmt.Fprintln(stdout, "aws-reset-bot demo: the real bot, talking over the wire to an in-process fake Slack and fake IAM.")
	fmt.Fprintln(stdout, "Passwords are masked here; in Slack only their owner sees them.")
	p.step("0. the bot starts: it names the AWS account for the sign-in URL and connects to Slack")
	p.show()

	p.step("1. alice types /aws-reset (she may reset without approval)")
	if err := p.command(ctx, demoAlice); err != nil {
		return err
	}
	if err := p.waitFor(ctx, func(m fakeslack.Message) bool { return strings.Contains(m.Text, "If this wasn't you") }); err != nil {
		return err
	}
	p.show()

	p.step("2. bob types /aws-reset (an approver must say yes)")
	if err := p.command(ctx, demoBob); err != nil {
		return err
	}
	if err := p.waitFor(ctx, func(m fakeslack.Message) bool { return m.Channel == demoAdmCh }); err != nil {
		return err
	}
	if err := p.waitFor(ctx, func(m fakeslack.Message) bool { return strings.Contains(m.Text, "needs an approver's OK") }); err != nil {
		return err
	}
	p.show()

	p.step("3. admin clicks Approve in the approvers' channel")
	approval, _ := slack.WaitMessage(ctx, func(m fakeslack.Message) bool { return m.Channel == demoAdmCh })
	value, err := buttonValue(approval.Blocks, "aws_reset_approve")
	if err != nil {
		return err
	}
	id, err := slack.BlockAction(ctx, fakeslack.BlockAction{UserID: demoAdmin, ChannelID: demoAdmCh, MessageTS: approval.TS,
		ActionID: "aws_reset_approve", Value: value})
	if err != nil {
		return err
	}
	if _, err := slack.WaitAck(ctx, id); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "   Slack → bot   block_actions: Approve, clicked by <@"+demoAdmin+">; acked at once")
	offerOf := func(m fakeslack.Message) bool {
		return m.Channel == slack.DMChannel(demoBob) && strings.Contains(string(m.Blocks), "aws_reset_reveal")
	}
	if err := p.waitFor(ctx, offerOf); err != nil {
		return err
	}
	if err := p.waitFor(ctx, func(m fakeslack.Message) bool { return m.Channel == demoAdmCh && m.Updates > 0 }); err != nil {
		return err
	}
	p.show()
	if m, ok := slack.Message(demoAdmCh, approval.TS); ok {
		fmt.Fprintf(stdout, "   approvers' channel now reads: %s\n", oneLine(m.Text))
	}

	p.step("4. bob presses \"Show my new password\" (the reset waits for him, so he is surely looking)")
	offer, _ := slack.WaitMessage(ctx, offerOf)
	value, err = buttonValue(offer.Blocks, "aws_reset_reveal")
	if err != nil {
		return err
	}
	id, err = slack.BlockAction(ctx, fakeslack.BlockAction{UserID: demoBob, ChannelID: offer.Channel, MessageTS: offer.TS,
		ActionID: "aws_reset_reveal", Value: value})
	if err != nil {
		return err
	}
	if _, err := slack.WaitAck(ctx, id); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "   Slack → bot   block_actions: Show my new password, clicked by <@"+demoBob+">; acked at once")
	if err := p.waitFor(ctx, func(m fakeslack.Message) bool {
		return m.Channel == slack.DMChannel(demoBob) && strings.Contains(m.Text, "If this wasn't you")
	}); err != nil {
		return err
	}
	if err := p.waitFor(ctx, func(m fakeslack.Message) bool { return m.Channel == offer.Channel && m.TS == offer.TS && m.Updates > 0 }); err != nil {
		return err
	}
	p.show()

	stopBot()
	if err := <-botDone; err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nDone. Run it for real: go run ./bot run --config config.yaml (see README.md).")
	return nil
}

// demoIAMUser is the demo's allowlist, for checking what was delivered.
var demoIAMUser = map[string]string{demoAlice: "alice", demoBob: "bob"}

// demoPrinter prints what Slack and IAM saw since the last show.
type demoPrinter struct {
	w         io.Writer
	slack     *fakeslack.Server
	iam       *fakeaws.Server
	slackSeen int
	iamSeen   int
}

func (p *demoPrinter) step(title string) { fmt.Fprintf(p.w, "\n%s\n", title) }

func (p *demoPrinter) command(ctx context.Context, user string) error {
	id, err := p.slack.SlashCommand(ctx, fakeslack.SlashCommand{UserID: user})
	if err != nil {
		return err
	}
	ack, err := p.slack.WaitAck(ctx, id)
	if err != nil {
		return err
	}
	var payload struct{ Text string }
	_ = json.Unmarshal(ack.Payload, &payload)
	fmt.Fprintf(p.w, "   Slack → bot   slash_commands /aws-reset from <@%s>\n   bot → Slack   ack, shown to %s only: %s\n", user, user, oneLine(payload.Text))
	return nil
}

func (p *demoPrinter) waitFor(ctx context.Context, match func(fakeslack.Message) bool) error {
	if _, err := p.slack.WaitMessage(ctx, match); err != nil {
		return fmt.Errorf("demo: the bot did not answer as expected: %w", err)
	}
	return nil
}

var passwordSpan = regexp.MustCompile("\n\n`([^`]+)`\n\n")

// passwordIn finds the password in a password message's blocks.
func passwordIn(blocks string) string {
	var list []struct {
		Text struct{ Text string } `json:"text"`
	}
	if json.Unmarshal([]byte(blocks), &list) != nil {
		return ""
	}
	for _, b := range list {
		if sm := passwordSpan.FindStringSubmatch(b.Text.Text); sm != nil {
			return sm[1]
		}
	}
	return ""
}

// show prints the IAM calls and the Slack calls made since the last show.
func (p *demoPrinter) show() {
	calls := p.iam.Calls("")
	for _, c := range calls[p.iamSeen:] {
		detail := c.Params.Get("UserName")
		if pw := c.Params.Get("Password"); pw != "" {
			detail += fmt.Sprintf(", Password=%s, PasswordResetRequired=%s", mask(pw), c.Params.Get("PasswordResetRequired"))
		}
		fmt.Fprintf(p.w, "   bot → IAM     %s %s\n", c.Action, detail)
	}
	p.iamSeen = len(calls)
	scalls := p.slack.Calls("")
	for _, c := range scalls[p.slackSeen:] {
		switch c.Method {
		case "chat.postEphemeral", "chat.postMessage", "chat.update":
			text := c.Params.Get("text")
			text = oneLine(text)
			if pw := passwordIn(c.Params.Get("blocks")); pw != "" {
				profile, _ := p.iam.LoginProfile(demoIAMUser[c.Params.Get("user")])
				text += fmt.Sprintf("\n                 blocks: the password %s, the sign-in URL; the password is the one IAM received: %v",
					mask(pw), profile.Password == pw)
			}
			to := c.Params.Get("channel")
			if u := c.Params.Get("user"); u != "" {
				to += ", visible to " + u + " only"
			}
			fmt.Fprintf(p.w, "   bot → Slack   %s [%s]: %s\n", c.Method, to, text)
		default:
			fmt.Fprintf(p.w, "   bot → Slack   %s\n", c.Method)
		}
	}
	p.slackSeen = len(scalls)
}

func mask(s string) string { return strings.Repeat("•", len(s)) }

var slackDate = regexp.MustCompile(`<!date\^[^|>]*\|([^>]*)>`)

// oneLine shortens a message for the terminal: dates as their fallback
// text, one line, at most 150 characters.
func oneLine(s string) string {
	s = slackDate.ReplaceAllString(s, "$1")
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 150 {
		s = string(r[:150]) + "…"
	}
	return s
}

func buttonValue(blocks json.RawMessage, actionID string) (string, error) {
	var list []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(blocks, &list); err != nil {
		return "", err
	}
	for _, b := range list {
		for _, e := range b.Elements {
			if e.ActionID == actionID {
				return e.Value, nil
			}
		}
	}
	return "", errors.New("demo: no such button")
}
