package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/leakcheck"
)

// playDemo runs the demo on fakes the test can read afterwards.
func playDemo(t *testing.T, verbose bool) string {
	t.Helper()
	w, err := newWorld()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	var out bytes.Buffer
	if err := w.play(context.Background(), verbose, &out); err != nil {
		t.Fatalf("play(verbose %v) = %v\n%s", verbose, err, out.String())
	}
	secrets := append(w.iam.Secrets(), fakeslack.Secrets()...)
	for _, leak := range leakcheck.Find(secrets, map[string][]byte{"the demo's output": out.Bytes()}) {
		t.Error(leak)
	}
	return out.String()
}

// inOrder reports whether each of wants is in out, each after the one before.
func inOrder(out string, wants ...string) bool {
	for _, w := range wants {
		i := strings.Index(out, w)
		if i < 0 {
			return false
		}
		out = out[i+len(w):]
	}
	return true
}

func TestDemo(t *testing.T) {
	out := playDemo(t, false)
	for _, want := range []string{
		"UpdateLoginProfile UserName=alice Password=••••",
		"PasswordResetRequired=true",
		"chat.postMessage in #approvals:",
		"buttons: [Approve] [Deny]",
		"admin (U0ADMIN001) pressed [Approve] in #approvals",
		"Approved by @admin",
		"buttons: [Show my new password]",
		"bob (U0BOB00001) pressed [Show my new password] in bob's DM with the bot",
		"Sign in at https://example-co.signin.aws.amazon.com/console.",
		"UpdateLoginProfile UserName=bob",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	// Both sides in the order the bot acts: it reaches the person on Slack
	// before it touches IAM, and shows the password after.
	if !inOrder(out, "alice (U0ALICE001) typed /aws-reset", "ack of alice's command", "users.info alice", "GetUser UserName=alice",
		"conversations.open with alice", "UpdateLoginProfile UserName=alice", "chat.postEphemeral in alice's DM") {
		t.Errorf("alice's reset is not shown in the order it happened:\n%s", out)
	}
	if !inOrder(out, "pressed [Show my new password]", "ack of bob's click", "UpdateLoginProfile UserName=bob", "chat.postEphemeral in bob's DM") {
		t.Errorf("bob's reveal is not shown in the order it happened:\n%s", out)
	}
	// The lasting note in full, its warning included, for both resets.
	if n := strings.Count(out, "If this wasn't you, tell your security team now."); n != 2 {
		t.Errorf("lasting notes with their warning = %d; want 2:\n%s", n, out)
	}
	for _, bad := range []string{"received:", "…", "bot log"} {
		if strings.Contains(out, bad) {
			t.Errorf("demo output holds %q:\n%s", bad, out)
		}
	}
}

func TestDemoVerbose(t *testing.T) {
	out := playDemo(t, true)
	// Each log line comes after the calls that caused it.
	if !inOrder(out, "apps.connections.open", `msg="socket mode connected"`, "1. alice") {
		t.Errorf("the connection's log line is not after the connection, in step 0:\n%s", out)
	}
	if !inOrder(out, "UpdateLoginProfile UserName=alice", "chat.postEphemeral in alice's DM", `msg="password reset and delivered"`,
		"2. bob") {
		t.Errorf("alice's delivery log line is not after the delivery:\n%s", out)
	}
	if !inOrder(out, "pressed [Approve]", `decision=approved`, "buttons: [Show my new password]", "waiting for the owner", "4. bob") {
		t.Errorf("the approval's log lines are not after its calls:\n%s", out)
	}
	if !inOrder(out, "5. The bot stops", `msg="aws-reset-bot stopped"`) {
		t.Errorf("the stop is not shown:\n%s", out)
	}
	if strings.Contains(out, "time=") {
		t.Errorf("log lines carry times; the order says when:\n%s", out)
	}
}

func TestDemoCommandLine(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr error
	}{
		{[]string{"--help"}, flag.ErrHelp},
		{[]string{"-h"}, flag.ErrHelp},
		{[]string{"-config", "x.yaml"}, errUsage},
		{[]string{"extra"}, errUsage},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tt.args, &stdout, &stderr)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("run(%q) = %v; want %v", tt.args, err, tt.wantErr)
		}
		usage := stderr.String()
		if !strings.Contains(usage, "usage: go run ./bot/demo [-v]") || !strings.Contains(usage, "  -v\t") {
			t.Errorf("run(%q) usage = %q; want the demo's usage with -v", tt.args, usage)
		}
		if strings.Contains(usage, "-config") && tt.args[0] != "-config" {
			t.Errorf("run(%q) usage lists -config, which the demo ignores:\n%s", tt.args, usage)
		}
	}
}
