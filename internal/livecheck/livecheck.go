// Package livecheck asks Slack and AWS whether a configuration is ready to
// deploy: whether the tokens work and Socket Mode will connect, whether the
// bot is in the channels it posts to, whether IAM lets it do what it needs
// and no more, and whether the account's password policy is one the
// generator can meet. It is "bot check --live".
//
// Every check becomes one line of a checklist (PASS, WARN, FAIL or SKIP
// with a short reason); only FAIL means the bot would not work. Nothing is
// changed anywhere: the Slack calls read, apps.connections.open hands out
// a URL nobody connects to, and IAM is asked through
// SimulatePrincipalPolicy, never by trying. No token, credential, password
// or WebSocket URL is ever printed.
package livecheck

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
)

// Status is a check's outcome.
type Status int

// The outcomes, from best to worst but for Skip, which says the check
// could not be made.
const (
	Pass Status = iota // the bot will work, as far as this check can see
	Warn               // it will work, but something is riskier than it need be
	Fail               // it will not work: fix this before deploying
	Skip               // the check could not be made; the reason says how to enable it
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Warn:
		return "WARN"
	case Fail:
		return "FAIL"
	case Skip:
		return "SKIP"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is one line of the checklist.
type Result struct {
	Status Status
	Check  string // what was checked, e.g. "slack bot token" or "iam:GetUser"
	Reason string // why the status, and for WARN, FAIL and SKIP what to do
}

// Report is the checklist, in the order the checks ran.
type Report struct {
	Results []Result
}

func (r *Report) add(s Status, check, format string, args ...any) {
	r.Results = append(r.Results, Result{Status: s, Check: check, Reason: fmt.Sprintf(format, args...)})
}

// Failed reports whether any check failed.
func (r Report) Failed() bool { return r.Count(Fail) > 0 }

// Count returns how many checks ended with s.
func (r Report) Count(s Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// Print writes the checklist, one aligned line per check, and a summary.
func (r Report) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", res.Status, res.Check, oneLine(res.Reason))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := "ready to deploy"
	switch {
	case r.Failed():
		verdict = "not ready: fix the FAIL lines"
	case r.Count(Warn) > 0 || r.Count(Skip) > 0:
		verdict = "ready to deploy; read the WARN and SKIP lines"
	}
	_, err := fmt.Fprintf(w, "summary: %d PASS, %d WARN, %d FAIL, %d SKIP: %s\n",
		r.Count(Pass), r.Count(Warn), r.Count(Fail), r.Count(Skip), verdict)
	return err
}

// oneLine keeps a reason on its line whatever an error's text holds.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Checker runs the checks for one configuration. Its clients are the real
// SDK clients in production (*slack.Client, *iam.Client, *sts.Client) and
// the same clients pointed at the fakes in tests.
type Checker struct {
	Config config.Config

	// BotSlack uses the bot token, AppSlack the app-level token. SlackErr,
	// if set, is why there are none (a token missing or of the wrong
	// kind): each of its problems is a FAIL line, and the Slack checks
	// are skipped.
	BotSlack BotSlack
	AppSlack AppSlack
	SlackErr error

	// IAM and STS use the credentials the bot would run with, and bound
	// each call themselves (awsclient.New gives them aws.call_timeout).
	// AWSErr, if set, is why there are none, and the AWS checks are skipped.
	IAM    IAM
	STS    STS
	AWSErr error
	// Accounts are aws.accounts' clients, each on its role; each account
	// is checked after the bot's own.
	Accounts []Account

	// SlackCallTimeout bounds each Slack call, retries included; 0 means
	// 30s. slack-go's client has no deadline of its own.
	SlackCallTimeout time.Duration
}

// Run makes every check and returns the checklist: the Slack checks first,
// then the AWS ones.
func (c Checker) Run(ctx context.Context) Report {
	var r Report
	c.checkSlack(ctx, &r)
	c.checkAWS(ctx, &r)
	if c.AWSErr == nil {
		c.checkAccounts(ctx, &r)
	}
	return r
}

// slackCall bounds one Slack call by the SlackCallTimeout.
func (c Checker) slackCall(ctx context.Context) (context.Context, context.CancelFunc) {
	d := c.SlackCallTimeout
	if d <= 0 {
		d = 30 * time.Second
	}
	return context.WithTimeout(ctx, d)
}

// setupFailed reports the problems behind a missing client as FAIL lines.
func setupFailed(r *Report, check string, err error) {
	for _, line := range config.Problems(err) {
		r.add(Fail, check, "%s", line)
	}
}
