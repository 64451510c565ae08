package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/leakcheck"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tokens is the environment a real deployment gives the bot.
func tokens(k string) string {
	return map[string]string{"SLACK_APP_TOKEN": fakeslack.AppToken, "SLACK_BOT_TOKEN": fakeslack.BotToken}[k]
}

// TestRunOverTheWire runs the real command line, wired only by the
// configuration and the environment (AWS_ENDPOINT_URL_IAM and friends),
// and checks the reset, the metrics, readiness, and a clean SIGTERM.
func TestRunOverTheWire(t *testing.T) {
	slack := fakeslack.New(fakeslack.Options{})
	defer slack.Close()
	iam := fakeaws.New(fakeaws.Options{AccountAlias: "example-co"})
	defer iam.Close()
	for k, v := range iam.Env() {
		t.Setenv(k, v)
	}
	slack.AddUser(fakeslack.User{ID: "U0ALICE001", Name: "alice"})
	iam.AddUser(fakeaws.User{Name: "alice", LoginProfile: true, MFADevices: 1})

	dir := t.TempDir()
	cfg := writeConfig(t, fmt.Sprintf(`
slack:
  api_url: %s
store:
  path: %s
http:
  addr: 127.0.0.1:0
log:
  level: debug
  format: json
users:
  - slack_user: U0ALICE001
    iam_user: alice
`, slack.APIURL(), filepath.Join(dir, "aws-reset.db")))

	b := startRun(t, cfg)
	stdout, stderr := &b.stdout, &b.stderr

	wctx, wcancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer wcancel()
	if err := slack.WaitConnected(wctx); err != nil {
		t.Fatalf("not connected: %v\n%s", err, stderr.String())
	}
	addr := waitFor(t, wctx, stderr, regexp.MustCompile(`"addr":"(127\.0\.0\.1:\d+)"`))
	base := "http://" + addr

	// The fake sees the connection a moment before the bot does.
	for {
		if code, _ := get(t, base+"/readyz"); code == 200 {
			break
		}
		select {
		case <-wctx.Done():
			t.Fatal("/readyz never reported ready while connected")
		case <-time.After(2 * time.Millisecond):
		}
	}
	id, err := slack.SlashCommand(wctx, fakeslack.SlashCommand{UserID: "U0ALICE001"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slack.WaitAck(wctx, id); err != nil {
		t.Fatal(err)
	}
	msg, err := slack.WaitMessage(wctx, func(m fakeslack.Message) bool {
		return m.Ephemeral && strings.Contains(string(m.Blocks), "temporary AWS console password")
	})
	if err != nil {
		t.Fatalf("no password: %v\n%s", err, stderr.String())
	}
	profile, _ := iam.LoginProfile("alice")
	if !strings.Contains(string(msg.Blocks), "`"+profile.Password+"`") {
		t.Error("the DM does not hold the password IAM received")
	}
	if !strings.Contains(string(msg.Blocks), "https://example-co.signin.aws.amazon.com/console") {
		t.Errorf("no sign-in URL from the account alias: %s", msg.Blocks)
	}
	if _, err := slack.WaitMessage(wctx, func(m fakeslack.Message) bool { return strings.Contains(m.Text, "If this wasn't you") }); err != nil {
		t.Fatal("no reset notice")
	}

	_, metrics := get(t, base+"/metrics")
	for _, want := range []string{
		`awsreset_commands_received_total{kind="slash_command"} 1`,
		`awsreset_resets_total{account="",outcome="delivered"} 1`,
		`awsreset_ack_latency_seconds_count 1`,
		`awsreset_iam_call_duration_seconds_count{account="",action="UpdateLoginProfile",result="ok"} 1`,
		`awsreset_slack_call_duration_seconds_count{method="chat.postEphemeral",status="200"}`,
		`awsreset_socket_connected 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// /readyz follows the Socket Mode connection.
	slack.FailConnectionsOpen(3)
	slack.DropConnection()
	sawDown := false
	for !sawDown {
		if code, _ := get(t, base+"/readyz"); code == http.StatusServiceUnavailable {
			sawDown = true
		}
		select {
		case <-wctx.Done():
			t.Fatal("/readyz never reported the dropped connection")
		case <-time.After(time.Millisecond):
		}
	}
	for {
		if code, _ := get(t, base+"/readyz"); code == 200 {
			break
		}
		select {
		case <-wctx.Done():
			t.Fatal("/readyz never recovered")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}

	b.sigterm()

	for _, leak := range leakcheck.Find(append(fakeslack.Secrets(), iam.Secrets()...), map[string][]byte{
		"stdout": []byte(stdout.String()), "the logs": []byte(stderr.String()), "/metrics": []byte(metrics),
	}) {
		t.Error(leak)
	}
	for _, want := range []string{`"msg":"aws-reset-bot starting"`, `"listed_users":1`, `"msg":"password reset and delivered"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("logs lack %s", want)
		}
	}
}

// runningBot is `bot run` going in the background, as a process would.
type runningBot struct {
	t              *testing.T
	stdout, stderr leakcheck.Buffer
	cancel         context.CancelFunc
	done           chan error
}

// startRun runs `bot run --config cfg` with the fake tokens until sigterm
// (or the test's end).
func startRun(t *testing.T, cfg string) *runningBot {
	ctx, cancel := context.WithCancel(context.Background())
	b := &runningBot{t: t, cancel: cancel, done: make(chan error, 1)}
	go func() { b.done <- run(ctx, []string{"run", "--config", cfg}, &b.stdout, &b.stderr, tokens) }()
	t.Cleanup(cancel)
	return b
}

// sigterm stops the bot as SIGTERM does and checks that it exits cleanly
// in bounded time.
func (b *runningBot) sigterm() {
	b.t.Helper()
	b.cancel()
	select {
	case err := <-b.done:
		if err != nil {
			b.t.Errorf("run() = %v; want nil after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		b.t.Fatal("run did not stop")
	}
}

func waitFor(t *testing.T, ctx context.Context, buf *leakcheck.Buffer, re *regexp.Regexp) string {
	t.Helper()
	for {
		if m := re.FindStringSubmatch(buf.String()); m != nil {
			return m[1]
		}
		select {
		case <-ctx.Done():
			t.Fatalf("output never matched %s:\n%s", re, buf.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		config   string
		wantErr  bool
		wantOut  []string
		wantMiss []string
	}{
		{"example config", "", false, []string{"OK"}, nil},
		{"every problem at once", `
slack:
  command: reset
  colour: blue
users:
  - slack_user: alice
    iam_user: "bad name"
`, true, []string{"colour", "reset"}, nil},
		{"validation problems", `
slack:
  command: reset
users:
  - slack_user: alice
    iam_user: "bad name"
`, true, []string{"slack.command", "users[0].slack_user", "users[0].iam_user"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "../config.example.yaml"
			if tt.config != "" {
				path = writeConfig(t, tt.config)
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"check", "--config", path}, &stdout, &stderr, func(string) string { return "" })
			if (err != nil) != tt.wantErr {
				t.Fatalf("check = %v; want error %v\nstderr: %s", err, tt.wantErr, stderr.String())
			}
			out := stdout.String() + stderr.String()
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestRunNeedsTokens(t *testing.T) {
	var stdout, stderr bytes.Buffer
	env := map[string]string{"SLACK_APP_TOKEN": fakeslack.BotToken}
	err := run(context.Background(), []string{"run", "--config", "../config.example.yaml"}, &stdout, &stderr,
		func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("run without the right tokens = nil; want an error")
	}
	for _, want := range []string{"SLACK_APP_TOKEN holds a bot token", "SLACK_BOT_TOKEN is not set"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), fakeslack.BotToken) {
		t.Error("the token was printed")
	}
}

func TestVersion(t *testing.T) {
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &stdout, io.Discard, nil); err != nil || !strings.Contains(stdout.String(), Version) {
		t.Errorf("version = %q, %v", stdout.String(), err)
	}
}
