package replicatest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/leakcheck"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store/pgtest"
)

// TestDatabaseCut runs the real binary with its database behind a proxy
// the test cuts: the replica goes not ready, answers a command at once
// that it cannot record it (no "working on it", no reset), and, when the
// database is back, reconnects by itself and serves the next command.
func TestDatabaseCut(t *testing.T) {
	dbURL := pgtest.Schema(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := pgtest.NewProxy(t, u.Host)
	bin := buildBot(t)
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()

	slack := fakeslack.New(fakeslack.Options{})
	defer slack.Close()
	iam := fakeaws.New(fakeaws.Options{AccountAlias: "example-co"})
	defer iam.Close()
	const alice = "U0ALICE001"
	slack.AddUser(fakeslack.User{ID: alice, Name: "alice"})
	iam.AddUser(fakeaws.User{Name: "alice", LoginProfile: true, MFADevices: 1})
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf(`slack:
  api_url: %s
store:
  replica_timeout: 3s
reset:
  cooldown: 0s
http:
  addr: 127.0.0.1:0
log:
  format: json
users:
  - {slack_user: %s, iam_user: alice}
`, slack.APIURL(), alice)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "SLACK_APP_TOKEN="+fakeslack.AppToken, "SLACK_BOT_TOKEN="+fakeslack.BotToken,
		"DATABASE_URL="+proxy.URL(t, dbURL))
	for k, v := range iam.Env() {
		env = append(env, k+"="+v)
	}
	bot := startReplica(t, bin, cfgPath, env)
	if err := slack.WaitConnected(ctx); err != nil {
		t.Fatalf("not connected: %v\n%s", err, tail(bot.stderr.String()))
	}
	var base string
	waitUntil(t, ctx, "the HTTP address in the log", func() bool { base = bot.logged(addrRE); return base != "" })
	readyz := func() int { code, _ := get("http://" + base + "/readyz"); return code }
	waitUntil(t, ctx, "ready", func() bool { return readyz() == http.StatusOK })

	// ackText sends the command and returns what its ack says.
	ackText := func() string {
		t.Helper()
		id, err := slack.SlashCommand(ctx, fakeslack.SlashCommand{UserID: alice})
		if err != nil {
			t.Fatal(err)
		}
		a, err := slack.WaitAck(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return string(a.Payload)
	}
	passwords := func() int {
		return count(slack, func(m fakeslack.Message) bool {
			return m.Ephemeral && m.User == alice && strings.Contains(string(m.Blocks), "temporary AWS console password")
		})
	}

	proxy.Cut()
	waitUntil(t, ctx, "not ready with the database cut off", func() bool { return readyz() == http.StatusServiceUnavailable })
	waitUntil(t, ctx, "a heartbeat to fail", func() bool { return strings.Contains(bot.stderr.String(), "the store does not answer") })
	if got := ackText(); !strings.Contains(got, "can't record requests right now") || strings.Contains(got, "Working on it") {
		t.Errorf("ack with the database cut off = %s; want the words that nothing was started", got)
	}
	if n := len(iam.Calls("UpdateLoginProfile")); n != 0 {
		t.Errorf("IAM resets with the database cut off = %d; want 0", n)
	}

	proxy.Restore()
	waitUntil(t, ctx, "ready again", func() bool { return readyz() == http.StatusOK })
	waitUntil(t, ctx, "a heartbeat to succeed", func() bool { return strings.Contains(bot.stderr.String(), "the store answers again") })
	if got := ackText(); !strings.Contains(got, "Working on it") {
		t.Errorf("ack with the database back = %s; want the request started", got)
	}
	waitUntil(t, ctx, "the password", func() bool { return passwords() == 1 })

	for _, leak := range leakcheck.Find(append(fakeslack.Secrets(), iam.Secrets()...), map[string][]byte{
		"the log": []byte(bot.stderr.String()), "the output": []byte(bot.stdout.String()),
	}) {
		t.Error(leak)
	}
}
