package replicatest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/leakcheck"
)

// TestDatabaseCut runs the real binary with its database behind a proxy
// the test cuts: the replica goes not ready, answers a command at once
// that it cannot record it (no "working on it", no reset), and, when the
// database is back, reconnects by itself and serves the next command.
func TestDatabaseCut(t *testing.T) {
	w := newAliceWorld(t)
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	bot := w.start(t, w.proxy.URL(t, w.dbURL))
	if err := w.slack.WaitConnected(ctx); err != nil {
		t.Fatalf("not connected: %v\n%s", err, tail(bot.stderr.String()))
	}
	readyz := readyzOf(t, ctx, bot)
	waitUntil(t, ctx, "ready", func() bool { return readyz() == http.StatusOK })

	// ackText sends the command and returns what its ack says.
	ackText := func() string {
		t.Helper()
		id, err := w.slack.SlashCommand(ctx, fakeslack.SlashCommand{UserID: alice})
		if err != nil {
			t.Fatal(err)
		}
		a, err := w.slack.WaitAck(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return string(a.Payload)
	}

	w.proxy.Cut()
	waitUntil(t, ctx, "not ready with the database cut off", func() bool { return readyz() == http.StatusServiceUnavailable })
	waitUntil(t, ctx, "a heartbeat to fail", func() bool { return strings.Contains(bot.stderr.String(), "the store does not answer") })
	if got := ackText(); !strings.Contains(got, "can't record requests right now") || strings.Contains(got, "Working on it") {
		t.Errorf("ack with the database cut off = %s; want the words that nothing was started", got)
	}
	if n := len(w.iam.Calls("UpdateLoginProfile")); n != 0 {
		t.Errorf("IAM resets with the database cut off = %d; want 0", n)
	}

	w.proxy.Restore()
	waitUntil(t, ctx, "ready again", func() bool { return readyz() == http.StatusOK })
	waitUntil(t, ctx, "a heartbeat to succeed", func() bool { return strings.Contains(bot.stderr.String(), "the store answers again") })
	if got := ackText(); !strings.Contains(got, "Working on it") {
		t.Errorf("ack with the database back = %s; want the request started", got)
	}
	waitUntil(t, ctx, "the password", func() bool { return w.passwords() == 1 })

	for _, leak := range leakcheck.Find(append(fakeslack.Secrets(), w.iam.Secrets()...), map[string][]byte{
		"the log": []byte(bot.stderr.String()), "the output": []byte(bot.stdout.String()),
	}) {
		t.Error(leak)
	}
}
