package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/leakcheck"
)

// remindFakes starts the fakes for the reminder commands, on the real
// clock: alice's password expires in three days, bob's two days ago. The
// daily time is 00:00 UTC, so both are due whenever the test runs.
func remindFakes(t *testing.T, enabled bool) (slack *fakeslack.Server, iam *fakeaws.Server, cfgPath, dbPath string) {
	t.Helper()
	slack = fakeslack.New(fakeslack.Options{})
	t.Cleanup(slack.Close)
	iam = fakeaws.New(fakeaws.Options{AccountAlias: "example-co"})
	t.Cleanup(iam.Close)
	for k, v := range iam.Env() {
		t.Setenv(k, v)
	}
	iam.SetCredentialReportDelay(0)
	iam.SetPasswordPolicy(&fakeaws.PasswordPolicy{MinimumPasswordLength: 12, MaxPasswordAge: 90})
	now := time.Now()
	iam.AddUser(fakeaws.User{Name: "alice", LoginProfile: true, PasswordCreated: now.AddDate(0, 0, -87)})
	iam.AddUser(fakeaws.User{Name: "bob", LoginProfile: true, PasswordCreated: now.AddDate(0, 0, -92)})
	slack.AddUser(fakeslack.User{ID: "U0ALICE001", Name: "alice"})
	slack.AddUser(fakeslack.User{ID: "U0BOB00001", Name: "bob"})

	dbPath = filepath.Join(t.TempDir(), "aws-reset.db")
	cfgPath = writeConfig(t, fmt.Sprintf(`
slack:
  api_url: %s
store:
  path: %s
reminders:
  enabled: %v
  at: "00:00"
  time_zone: UTC
users:
  - slack_user: U0ALICE001
    iam_user: alice
  - slack_user: U0BOB00001
    iam_user: bob
`, slack.APIURL(), dbPath, enabled))
	return slack, iam, cfgPath, dbPath
}

func TestRemindDryRun(t *testing.T) {
	slack, _, cfg, dbPath := remindFakes(t, false)
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"remind", "--config", cfg, "--dry-run"}, &stdout, &stderr, tokens); err != nil {
		t.Fatalf("remind --dry-run = %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	t.Logf("remind --dry-run:\n%s", out)
	for _, want := range []string{"credential report", "U0ALICE001", "3 days", "due: new today",
		"U0BOB00001", "expired", "due since", "Dry run: nothing was sent or recorded"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, method := range []string{"conversations.open", "chat.postMessage"} {
		if n := len(slack.Calls(method)); n != 0 {
			t.Errorf("remind --dry-run called %s %d times; want 0", method, n)
		}
	}
	if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("remind --dry-run touched the store (stat: %v); want no database", err)
	}
}

func TestRemindSendsOnce(t *testing.T) {
	slack, _, cfg, _ := remindFakes(t, true)
	for i, want := range []string{"sent", "already sent"} {
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), []string{"remind", "--config", cfg}, &stdout, &stderr, tokens); err != nil {
			t.Fatalf("remind #%d = %v\n%s", i+1, err, stderr.String())
		}
		for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n")[2:] {
			if !strings.HasSuffix(strings.TrimSpace(line), want) {
				t.Errorf("remind #%d: line %q; want outcome %q", i+1, line, want)
			}
		}
	}
	if n := len(slack.Calls("chat.postMessage")); n != 2 {
		t.Errorf("two runs of remind posted %d messages; want 2 (one each for alice and bob)", n)
	}
}

func TestRemindRefusesWhenDisabled(t *testing.T) {
	slack, _, cfg, _ := remindFakes(t, false)
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"remind", "--config", cfg}, &stdout, &stderr, tokens)
	if !errors.Is(err, errReported) || !strings.Contains(stderr.String(), "reminders.enabled is false") {
		t.Errorf("remind with reminders off = %v, %q; want a refusal", err, stderr.String())
	}
	if n := len(slack.Calls("")); n != 0 {
		t.Errorf("Slack was called %d times; want 0", n)
	}
}

// TestRunSendsReminders checks the wiring in serve: with reminders on,
// `bot run` sends what is due at start, and stops cleanly.
func TestRunSendsReminders(t *testing.T) {
	slack, _, cfg, _ := remindFakes(t, true)
	b := startRun(t, cfg)

	wctx, wcancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer wcancel()
	for _, user := range []string{"U0ALICE001", "U0BOB00001"} {
		if _, err := slack.WaitMessage(wctx, func(m fakeslack.Message) bool {
			return m.Channel == fakeslack.DMChannel(user) && strings.Contains(m.Text, "AWS console password")
		}); err != nil {
			t.Fatalf("no reminder for %s: %v\n%s", user, err, b.stderr.String())
		}
	}
	// Reminders start before the bot connects; a SIGTERM while it is still
	// starting ends run with the start's error, which is not what this tests.
	if err := slack.WaitConnected(wctx); err != nil {
		t.Fatalf("the bot did not connect: %v\n%s", err, b.stderr.String())
	}
	b.sigterm()
	for _, leak := range leakcheck.Find(fakeslack.Secrets(), map[string][]byte{"the logs": []byte(b.stderr.String())}) {
		t.Error(leak)
	}
}
