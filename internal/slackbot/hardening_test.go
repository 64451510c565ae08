package slackbot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slackbot"
	"github.com/aws-reset-bot/aws-reset-bot/internal/workflow"
)

func TestMFAGate(t *testing.T) {
	t.Run("refused without approvals", func(t *testing.T) {
		h := newHarness(t)
		h.iam.AddUser(fakeaws.User{Name: "alice", LoginProfile: true, MFADevices: 0})
		h.start()
		h.command(alice, "")
		h.waitEphemeral(alice, "has no MFA device")
		if n := len(h.iam.Calls("UpdateLoginProfile")); n != 0 {
			t.Errorf("UpdateLoginProfile calls = %d; want 0", n)
		}
		if e := h.waitAudit(request.ActionRefused); e.Outcome != "no_mfa" {
			t.Errorf("audit outcome = %q; want no_mfa", e.Outcome)
		}
	})
	t.Run("sent to approval even when the person needs none", func(t *testing.T) {
		no := false
		h := newHarness(t, withApproval(), withConfig(func(c *config.Config) { c.Users[0].Approval = &no }))
		h.iam.AddUser(fakeaws.User{Name: "alice", LoginProfile: true, MFADevices: 0})
		h.start()
		h.command(alice, "")
		m := h.waitApprovalMessage("alice")
		if !strings.Contains(string(m.Blocks), "no MFA device") {
			t.Errorf("approval message does not warn about MFA: %s", m.Blocks)
		}
		h.click(admin, m, approveID)
		h.reveal(alice)
		h.waitEphemeral(alice, "IAM user `alice`")
	})
	t.Run("off", func(t *testing.T) {
		h := newHarness(t, withConfig(func(c *config.Config) { c.Reset.RequireMFA = false }))
		h.iam.AddUser(fakeaws.User{Name: "alice", LoginProfile: true, MFADevices: 0})
		h.start()
		h.command(alice, "")
		h.waitEphemeral(alice, "IAM user `alice`")
	})
}

func TestProtectedAccounts(t *testing.T) {
	for _, protected := range []string{"alice", "ALICE", "/breakglass/"} {
		t.Run(protected, func(t *testing.T) {
			h := newHarness(t, withConfig(func(c *config.Config) { c.Reset.Protected = []string{protected} }))
			h.iam.AddUser(fakeaws.User{Name: "alice", Path: "/breakglass/", LoginProfile: true, MFADevices: 1})
			h.start()
			h.command(alice, "")
			h.waitEphemeral(alice, "This AWS account is protected")
			if n := len(h.iam.Calls("UpdateLoginProfile")); n != 0 {
				t.Errorf("UpdateLoginProfile calls = %d; want 0", n)
			}
			if strings.HasPrefix(protected, "/") {
				return
			}
			// A protected name is refused before any AWS call at all.
			if n := len(h.iam.Calls("")); n != 0 {
				t.Errorf("IAM calls = %d; want 0", n)
			}
		})
	}
}

func TestCooldown(t *testing.T) {
	h := newHarness(t, withConfig(func(c *config.Config) { c.Reset.Cooldown = config.Duration(10 * time.Minute) }))
	h.start()
	h.command(alice, "")
	h.waitEphemeral(alice, "IAM user `alice`")
	h.waitAudit(request.ActionDelivered)
	h.command(alice, "")
	m := h.waitEphemeral(alice, "You can ask again")
	if !strings.Contains(m.Text, "<!date^") {
		t.Errorf("cooldown message lacks the time: %q", m.Text)
	}
	h.clock.Advance(11 * time.Minute)
	h.command(alice, "")
	h.waitAuditCount(request.ActionDelivered, 2)
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 2 {
		t.Errorf("UpdateLoginProfile calls = %d; want 2", n)
	}
}

func TestRedeliveredEnvelope(t *testing.T) {
	h := newHarness(t)
	h.start()
	payload := map[string]any{"command": "/aws-reset", "text": "", "user_id": alice, "team_id": fakeslack.TeamID,
		"channel_id": h.slack.DMChannel(alice), "user_name": "alice"}
	for attempt := range 3 {
		env := fakeslack.Envelope{Type: "slash_commands", EnvelopeID: "env-redelivered-1", Payload: payload,
			AcceptsResponsePayload: true, RetryAttempt: attempt}
		if attempt > 0 {
			env.RetryReason = "timeout"
		}
		if err := h.slack.Send(h.ctx(), env); err != nil {
			t.Fatal(err)
		}
	}
	h.waitEphemeral(alice, "IAM user `alice`")
	h.waitAudit(request.ActionDelivered)
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 1 {
		t.Errorf("UpdateLoginProfile calls = %d; want 1 for one envelope delivered three times", n)
	}
}

func TestBadFramesAndEnvelopes(t *testing.T) {
	h := newHarness(t)
	h.start()
	frames := []string{
		`{"type":"brand_new_type","envelope_id":"env-unknown-1","payload":{}}`,
		`{"type":"slash_commands","envelope_id":"env-bad-payload","payload":"not an object"}`,
		`{"type":"interactive","envelope_id":"env-bad-interactive","payload":{"type":"block_actions","actions":"x"}}`,
		`not json at all`,
		`{"type":"interactive","envelope_id":"env-big","payload":{"type":"block_actions","user":{"id":"U0ALICE001"},"x":"` + strings.Repeat("A", 200_000) + `"}}`,
	}
	for _, f := range frames {
		if err := h.slack.SendRaw(h.ctx(), []byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"env-unknown-1", "env-bad-payload", "env-bad-interactive", "env-big"} {
		if _, err := h.slack.WaitAck(h.ctx(), id); err != nil {
			t.Errorf("envelope %s not acked: %v", id, err)
		}
	}
	// Still serving, on the same connection or a new one.
	h.command(alice, "")
	h.waitEphemeral(alice, "IAM user `alice`")
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 1 {
		t.Errorf("UpdateLoginProfile calls = %d; want 1", n)
	}
}

func TestSlackServerErrorsRetried(t *testing.T) {
	for _, method := range []string{"users.info", "conversations.open", "chat.postEphemeral", "chat.postMessage"} {
		t.Run(method, func(t *testing.T) {
			h := newHarness(t)
			h.start()
			h.slack.FailNext(method, 2, fakeslack.Fault{Status: 503})
			h.command(alice, "")
			h.waitEphemeral(alice, "IAM user `alice`")
			h.waitDM(alice, "If this wasn't you")
			if n := len(h.iam.Calls("UpdateLoginProfile")); n != 1 {
				t.Errorf("UpdateLoginProfile calls = %d; want 1", n)
			}
		})
	}
}

func TestSlackDownAtDeliveryMeansNoReset(t *testing.T) {
	h := newHarness(t)
	h.start()
	// conversations.open keeps failing: the bot cannot reach the person,
	// so it must not set a password nobody can be shown.
	h.slack.FailNext("conversations.open", 100, fakeslack.Fault{Status: 503})
	h.command(alice, "")
	e := h.waitAudit(request.ActionFailed)
	if e.Outcome != "slack_unreachable" {
		t.Errorf("outcome = %q; want slack_unreachable", e.Outcome)
	}
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 0 {
		t.Errorf("UpdateLoginProfile calls = %d; want 0", n)
	}
}

func TestIAMDeadline(t *testing.T) {
	h := newHarness(t, withConfig(func(c *config.Config) { c.Reset.Deadline = config.Duration(300 * time.Millisecond) }))
	release := h.iam.Hold("UpdateLoginProfile")
	defer release()
	h.start()
	h.command(alice, "")
	// IAM may have taken the password it was sent: its owner is told so.
	h.waitDM(alice, "your password may have changed")
	if e := h.waitAudit(request.ActionFailed); e.Outcome != "no_answer" {
		t.Errorf("outcome = %q; want no_answer", e.Outcome)
	}
}

// failingStore fails the chosen methods, as a full or read-only disk would.
type failingStore struct {
	workflow.Store
	create, move bool
}

var errDiskFull = errors.New("database or disk is full")

func (f failingStore) CreateRequest(ctx context.Context, r request.Request, cooldown time.Duration) (request.Request, error) {
	if f.create {
		return request.Request{}, errDiskFull
	}
	return f.Store.CreateRequest(ctx, r, cooldown)
}

func (f failingStore) Move(ctx context.Context, id string, from []request.State, to request.State, now time.Time, update func(*request.Request)) (request.Request, error) {
	if f.move && to == request.Resetting {
		return request.Request{}, errDiskFull
	}
	return f.Store.Move(ctx, id, from, to, now, update)
}

func TestStoreFailureMeansNoReset(t *testing.T) {
	for _, tt := range []struct {
		name  string
		store func(workflow.Store) workflow.Store
	}{
		{"create", func(s workflow.Store) workflow.Store { return failingStore{Store: s, create: true} }},
		{"move to resetting", func(s workflow.Store) workflow.Store { return failingStore{Store: s, move: true} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withOptions(func(o *slackbot.Options) { o.Store = tt.store(o.Store) }))
			h.start()
			h.command(alice, "")
			m, err := h.slack.WaitMessage(h.ctx(), func(m fakeslack.Message) bool {
				return m.Channel == h.slack.DMChannel(alice) && strings.Contains(m.Text, "Something went wrong")
			})
			if err != nil {
				t.Fatalf("the person was not told: %s", h.dump())
			}
			if strings.Contains(m.Text, "disk") {
				t.Errorf("the person was shown an internal error: %q", m.Text)
			}
			if n := len(h.iam.Calls("UpdateLoginProfile")); n != 0 {
				t.Errorf("UpdateLoginProfile calls = %d; want 0 without a record", n)
			}
		})
	}
}

func TestReadiness(t *testing.T) {
	h := newHarness(t)
	h.start()
	ctx := h.ctx()
	waitReady := func(want bool) {
		t.Helper()
		for h.bot.Ready() != want {
			select {
			case <-ctx.Done():
				t.Fatalf("Ready() stayed %v", !want)
			case <-time.After(2 * time.Millisecond):
			}
		}
	}
	waitReady(true)
	// While Slack refuses to open a connection, the bot is not ready; it
	// keeps trying, and is ready again once Slack lets it in.
	h.slack.FailConnectionsOpen(3)
	h.slack.DropConnection()
	waitReady(false)
	waitReady(true)
	if n := len(h.slack.Calls("apps.connections.open")); n < 5 {
		t.Errorf("apps.connections.open calls = %d; want the first, 3 failures and a success", n)
	}
}

func TestUnusedPasswordOverwritten(t *testing.T) {
	h := newHarness(t, withConfig(func(c *config.Config) { c.Reset.ExpireUnusedAfter = config.Duration(time.Hour) }))
	h.start()
	h.command(alice, "")
	first := passwordOf(t, h.waitEphemeral(alice, "IAM user `alice`"))
	h.waitAudit(request.ActionDelivered)
	h.command(admin, "")
	h.waitEphemeral(admin, "IAM user `adminuser`")
	h.waitAuditCount(request.ActionDelivered, 2)
	// adminuser signs in; alice never does.
	h.iam.SetPasswordLastUsed("adminuser", h.clock.Now().Add(time.Minute))
	adminPassword, _ := h.iam.LoginProfile("adminuser")

	h.clock.Advance(61 * time.Minute)
	h.waitDM(alice, "was not used to sign in within 1h0m0s")
	h.waitAudit(request.ActionScrambled)
	if p, _ := h.iam.LoginProfile("alice"); p.Password == first {
		t.Error("alice's unused temporary password still works")
	}
	if p, _ := h.iam.LoginProfile("adminuser"); p.Password != adminPassword.Password {
		t.Error("adminuser signed in, yet the password was overwritten")
	}
	// Once only, however often the sweeper runs.
	h.clock.Advance(time.Minute)
	h.command(carol, "") // something else to wait for, so later sweeps have run
	h.waitDM(carol, "no console password")
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 4 { // alice, adminuser, alice scrambled, carol attempted
		t.Errorf("UpdateLoginProfile calls = %d; want 4", n)
	}
}

// withManyUsers lists n more people, each with an IAM user with MFA.
func withManyUsers(n int) harnessOption {
	return func(h *harness) {
		for i := range n {
			id, name := manyUser(i)
			h.slack.AddUser(fakeslack.User{ID: id, Name: name})
			h.iam.AddUser(fakeaws.User{Name: name, LoginProfile: true, MFADevices: 1})
			h.cfg.Users = append(h.cfg.Users, config.User{SlackUser: id, IAMUser: name})
		}
	}
}

func manyUser(i int) (slackID, iamName string) {
	return fmt.Sprintf("U0MANY%04d", i), fmt.Sprintf("user%04d", i)
}

func TestShutdownDuringBurst(t *testing.T) {
	const n = 30
	h := newHarness(t, withManyUsers(n), withConfig(func(c *config.Config) { c.Reset.Concurrency = 4 }))
	h.iam.SetLatency(10 * time.Millisecond)
	h.start()
	for i := range n {
		id, _ := manyUser(i)
		h.command(id, "") // each acked before the next is sent
	}
	start := time.Now()
	if err := h.stop(); err != nil { // SIGTERM with most of the burst queued
		t.Fatalf("Run() = %v; want nil", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	// Every acked command was finished, not dropped.
	if got := len(h.iam.Calls("UpdateLoginProfile")); got != n {
		t.Fatalf("UpdateLoginProfile calls = %d; want %d", got, n)
	}
	for i := range n {
		id, name := manyUser(i)
		found := false
		for _, m := range h.slack.Messages() {
			if m.Ephemeral && m.User == id && strings.Contains(string(m.Blocks), "IAM user `"+name+"`") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s got no password", id)
		}
	}
}

func TestShutdownTimeoutLeavesRequestToResume(t *testing.T) {
	h := newHarness(t, withOptions(func(o *slackbot.Options) { o.ShutdownTimeout = 100 * time.Millisecond }))
	release := h.startWithResetHeld()
	start := time.Now()
	if err := h.stop(); err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v; want about the 100ms timeout", d)
	}
	release()
	// The request was cut off mid-reset: IAM may hold a password nobody
	// saw. The next start offers alice the button again, and resets only
	// on her click.
	before := len(h.iam.Calls("UpdateLoginProfile"))
	h.start()
	h.waitAudit(request.ActionOffered) // written after the move to approved
	reqs, err := h.store.RequestsInState(h.ctx(), request.Approved)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("offered requests = %v, %v; want 1", reqs, err)
	}
	h.expectReofferThenReveal(reqs[0].ID, before)
}

func TestDeliveryFailsAfterRetries(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.slack.FailNext("chat.postEphemeral", 100, fakeslack.Fault{Status: 503})
	h.command(alice, "")
	h.waitDM(alice, "I reset your password but could not show it to you")
	if e := h.waitAudit(request.ActionFailed); e.Outcome != "delivery_failed" {
		t.Errorf("outcome = %q; want delivery_failed", e.Outcome)
	}
	if !strings.Contains(h.logs.String(), "could not deliver the password") {
		t.Error("the failure is not logged")
	}
}

func TestConnectionDroppedMidFlow(t *testing.T) {
	h := newHarness(t)
	release := h.startWithResetHeld()
	before := h.slack.ConnectionCount()
	h.slack.DropConnection()
	if err := h.slack.WaitConnectionCount(h.ctx(), before+1); err != nil {
		t.Fatal(err)
	}
	release()
	// The acked command is not lost with the connection.
	h.waitEphemeral(alice, "IAM user `alice`")
}

func TestApprovalSlackFaults(t *testing.T) {
	h := newHarness(t, withApproval())
	h.start()
	h.command(alice, "")
	m := h.waitApprovalMessage("alice")
	h.slack.FailNext("usergroups.users.list", 1, fakeslack.Fault{Status: 503})
	h.slack.FailNext("chat.update", 1, fakeslack.Fault{Status: 429, RetryAfter: time.Second})
	h.click(admin2, m, approveID) // admin2 is an approver through the user group
	h.reveal(alice)
	h.waitEphemeral(alice, "IAM user `alice`")
	updated, err := h.slack.WaitMessage(h.ctx(), func(x fakeslack.Message) bool {
		return x.Channel == m.Channel && x.TS == m.TS && x.Updates == 1
	})
	if err != nil || !strings.Contains(string(updated.Blocks), "Approved by") {
		t.Errorf("approval message not updated after a 429: %v", err)
	}
}
