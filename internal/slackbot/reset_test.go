package slackbot_test

import (
	"context"
	"encoding/json"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

func TestResetEndToEnd(t *testing.T) {
	h := newHarness(t)
	h.iam.SetPasswordPolicy(&fakeaws.PasswordPolicy{MinimumPasswordLength: 24, RequireSymbols: true,
		RequireNumbers: true, RequireUppercaseCharacters: true, RequireLowercaseCharacters: true})
	h.start()

	ack := h.command(alice, "")
	var payload struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if err := json.Unmarshal(ack.Payload, &payload); err != nil || payload.ResponseType != "ephemeral" ||
		!strings.Contains(payload.Text, "direct message") {
		t.Errorf("ack payload = %s (%v); want an ephemeral 'working on it'", ack.Payload, err)
	}

	msg := h.waitEphemeral(alice, "IAM user `alice`")
	if msg.Channel != h.slack.DMChannel(alice) {
		t.Errorf("password went to channel %s; want alice's DM %s", msg.Channel, h.slack.DMChannel(alice))
	}
	got := passwordOf(t, msg)
	profile, ok := h.iam.LoginProfile("alice")
	if !ok || profile.Password != got {
		t.Fatalf("DM password does not match the one IAM received (profile found: %v)", ok)
	}
	if !profile.PasswordResetRequired {
		t.Error("PasswordResetRequired = false; want true")
	}
	if len(got) < 24 {
		t.Errorf("password length %d; want at least the policy's 24", len(got))
	}
	if strings.Contains(msg.Text, got) {
		t.Error("the password is in the fallback text, which notifications show")
	}
	if !strings.Contains(string(msg.Blocks), consoleURL) {
		t.Errorf("password message lacks the console URL: %s", msg.Blocks)
	}

	notice := h.waitDM(alice, "If this wasn't you")
	if strings.Contains(notice.Text+string(notice.Blocks), got) {
		t.Error("the lasting notice holds the password")
	}
	// The password went to exactly one message.
	for _, m := range h.slack.Messages() {
		if strings.Contains(m.Text+string(m.Blocks), got) && (m.Channel != msg.Channel || m.TS != msg.TS) {
			t.Errorf("the password also went to %s (%s)", m.Channel, m.User)
		}
	}
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 1 {
		t.Errorf("UpdateLoginProfile calls = %d; want 1", n)
	}

	h.waitAudit(request.ActionDelivered)
	events, err := h.store.Audit(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	if want := "requested reset delivered"; strings.Join(actions, " ") != want {
		t.Errorf("audit actions = %q; want %q", actions, want)
	}
}

// waitAudit polls the store until an audit row with action appears.
func (h *harness) waitAudit(action string) request.AuditEvent {
	h.t.Helper()
	return h.waitAuditCount(action, 1)
}

// waitAuditCount polls the store until n audit rows with action exist,
// and returns the nth.
func (h *harness) waitAuditCount(action string, n int) request.AuditEvent {
	h.t.Helper()
	ctx := h.ctx()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		events, err := h.store.Audit(ctx, time.Time{})
		if err != nil {
			h.t.Fatal(err)
		}
		count := 0
		for _, e := range events {
			if e.Action == action {
				if count++; count == n {
					return e
				}
			}
		}
		select {
		case <-ctx.Done():
			h.t.Fatalf("no audit row %q; have %+v", action, events)
		case <-tick.C:
		}
	}
}

func TestRefusals(t *testing.T) {
	h := newHarness(t)
	h.start()
	tests := []struct {
		name string
		cmd  fakeslack.SlashCommand
	}{
		{"not listed", fakeslack.SlashCommand{UserID: bob}},
		{"guest", fakeslack.SlashCommand{UserID: guest}},
		{"deactivated", fakeslack.SlashCommand{UserID: gone}},
		{"bot", fakeslack.SlashCommand{UserID: robot}},
		{"user from another workspace", fakeslack.SlashCommand{UserID: outsider}},
		{"command from another workspace", fakeslack.SlashCommand{UserID: alice, TeamID: "T0OTHER001"}},
		{"command from another org", fakeslack.SlashCommand{UserID: alice, EnterpriseID: "E0OTHER001"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := h.slack.SlashCommand(h.ctx(), tt.cmd)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.slack.WaitAck(h.ctx(), id); err != nil {
				t.Fatal(err)
			}
			h.waitAuditCount(request.ActionRefused, i+1)
		})
	}
	// Whoever could be answered got the same words, whatever the reason.
	var texts = map[string]bool{}
	for _, m := range h.slack.Messages() {
		texts[m.Text] = true
	}
	if len(texts) != 1 {
		t.Errorf("refusals differ: %v; a refusal must not tell reasons apart", texts)
	}
	if n := len(h.iam.Calls("UpdateLoginProfile")) + len(h.iam.Calls("GetAccountPasswordPolicy")); n != 0 {
		t.Errorf("IAM calls = %d; want none for refused people", n)
	}
}

func TestResetFailures(t *testing.T) {
	tests := []struct {
		name     string
		user     string
		fault    string
		n        int
		want     string
		wantLog  string
		wantCall int // UpdateLoginProfile calls
	}{
		{"no console login", carol, "", 0, "no console password to reset", "", 1},
		{"access denied", alice, "AccessDenied", 1, "contact your AWS administrators", "AWS denied the bot's IAM call", 1},
		{"policy violation twice", alice, "PasswordPolicyViolation", 2, "password policy", "", 2},
		{"answer lost past the retries", alice, "network-after", 5, "your password may have changed", "", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if tt.fault != "" {
				h.iam.FailNext("UpdateLoginProfile", tt.n, tt.fault)
			}
			h.start()
			h.command(tt.user, "")
			h.waitDM(tt.user, tt.want)
			if n := len(h.iam.Calls("UpdateLoginProfile")); n != tt.wantCall {
				t.Errorf("UpdateLoginProfile calls = %d; want %d", n, tt.wantCall)
			}
			for _, m := range h.slack.Messages() {
				if strings.Contains(string(m.Blocks), "temporary AWS console password for") {
					t.Errorf("a password went out: %s", m.Text)
				}
			}
			if tt.wantLog != "" && !strings.Contains(h.logs.String(), tt.wantLog) {
				t.Errorf("logs lack %q", tt.wantLog)
			}
			h.waitAudit(request.ActionFailed)
		})
	}
}

func TestTransientIAMErrorsRetried(t *testing.T) {
	tests := []struct {
		fault string
		n     int
	}{
		{"Throttling", 2},
		{"ServiceFailure", 1},
		{"EntityTemporarilyUnmodifiable", 2},
		{"network", 1},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			h := newHarness(t)
			h.iam.FailNext("UpdateLoginProfile", tt.n, tt.fault)
			h.start()
			h.command(alice, "")
			got := passwordOf(t, h.waitEphemeral(alice, "IAM user `alice`"))
			if p, _ := h.iam.LoginProfile("alice"); p.Password != got {
				t.Error("delivered password is not IAM's")
			}
			if n := len(h.iam.Calls("UpdateLoginProfile")); n != tt.n+1 {
				t.Errorf("UpdateLoginProfile calls = %d; want %d", n, tt.n+1)
			}
		})
	}
}

func TestPolicyViolationRefreshesPolicy(t *testing.T) {
	h := newHarness(t)
	h.start()
	// The account policy changes after the bot cached it.
	h.command(alice, "")
	h.waitEphemeral(alice, "IAM user `alice`")
	h.iam.SetPasswordPolicy(&fakeaws.PasswordPolicy{MinimumPasswordLength: 40})
	h.command(admin, "")
	got := passwordOf(t, h.waitEphemeral(admin, "IAM user `adminuser`"))
	if len(got) < 40 {
		t.Errorf("password length %d; want the new policy's 40", len(got))
	}
	if n := len(h.iam.Calls("GetAccountPasswordPolicy")); n != 2 {
		t.Errorf("GetAccountPasswordPolicy calls = %d; want 2 (cached, then refreshed)", n)
	}
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 3 {
		t.Errorf("UpdateLoginProfile calls = %d; want 3", n)
	}
}

func TestSlackRateLimitWaitedOut(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.slack.FailNext("chat.postEphemeral", 1, fakeslack.Fault{Status: 429, RetryAfter: time.Second})
	h.command(alice, "")
	got := passwordOf(t, h.waitEphemeral(alice, "IAM user `alice`"))
	if p, _ := h.iam.LoginProfile("alice"); p.Password != got {
		t.Error("delivered password is not IAM's")
	}
	var statuses []int
	for _, c := range h.slack.Calls("chat.postEphemeral") {
		statuses = append(statuses, c.Status)
	}
	if len(statuses) < 2 || statuses[0] != 429 {
		t.Errorf("chat.postEphemeral statuses = %v; want a 429 then a retry", statuses)
	}
}

func TestHelp(t *testing.T) {
	h := newHarness(t)
	h.start()
	// Other text is a reason for a reset (see workflow.parseCommand).
	for _, text := range []string{"help", "HELP", "--help", "<@u0bad>", strings.Repeat("x", 5000)} {
		ack := h.command(alice, text)
		if !strings.Contains(string(ack.Payload), "resets your AWS console password") {
			t.Errorf("ack for %.20q = %s; want the help", text, ack.Payload)
		}
	}
	ack := h.command(alice, "@bob")
	if !strings.Contains(string(ack.Payload), "mention them") {
		t.Errorf("ack for @bob = %s; want advice to mention", ack.Payload)
	}
	if n := len(h.iam.Calls("")); n != 0 {
		t.Errorf("IAM calls = %d; want none for help", n)
	}
}

func TestAckBeforeSlowIAM(t *testing.T) {
	h := newHarness(t)
	before, _ := h.iam.LoginProfile("alice")
	release := h.startWithResetHeld()
	// The ack came while IAM is still held: the password is unchanged.
	if p, _ := h.iam.LoginProfile("alice"); p != before {
		t.Fatal("IAM already answered; the test proves nothing")
	}
	release()
	h.waitEphemeral(alice, "IAM user `alice`")
}

func TestReconnect(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(*fakeslack.Server)
	}{
		{"refresh requested", func(s *fakeslack.Server) { s.Disconnect("refresh_requested") }},
		{"connection dropped", func(s *fakeslack.Server) { s.DropConnection() }},
		{"connections.open failing for a while", func(s *fakeslack.Server) {
			s.FailConnectionsOpen(2)
			s.DropConnection()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.start()
			before := h.slack.ConnectionCount()
			tt.break_(h.slack)
			if err := h.slack.WaitConnectionCount(h.ctx(), before+1); err != nil {
				t.Fatalf("no reconnect: %v", err)
			}
			h.command(alice, "")
			h.waitEphemeral(alice, "IAM user `alice`")
		})
	}
}

func TestShutdownFinishesInFlight(t *testing.T) {
	h := newHarness(t)
	release := h.startWithResetHeld()
	stopped := make(chan error, 1)
	go func() { stopped <- h.stop() }()
	release()
	if err := <-stopped; err != nil {
		t.Errorf("Run() = %v; want nil after a clean shutdown", err)
	}
	got := passwordOf(t, h.waitEphemeral(alice, "IAM user `alice`"))
	if p, _ := h.iam.LoginProfile("alice"); p.Password != got {
		t.Error("delivered password is not IAM's")
	}
}

func TestDryRun(t *testing.T) {
	h := newHarness(t, withConfig(func(c *config.Config) { c.Reset.DryRun = true }))
	h.start()
	h.command(alice, "")
	h.waitEphemeral(alice, "Dry run: IAM user `alice` has a console password")
	h.command(carol, "")
	h.waitDM(carol, "no console password to reset")
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 0 {
		t.Errorf("UpdateLoginProfile calls = %d; want 0 in a dry run", n)
	}
	if n := len(h.iam.Calls("GetLoginProfile")); n != 2 {
		t.Errorf("GetLoginProfile calls = %d; want 2", n)
	}
	if e := h.waitAudit(request.ActionFailed); e.Outcome != "dry_run" {
		t.Errorf("first outcome = %q; want dry_run", e.Outcome)
	}
}
