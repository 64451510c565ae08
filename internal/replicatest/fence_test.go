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

// TestCutOffMidReset runs two real replicas, the first with its database
// behind a proxy the test cuts while IAM is working on its reset. The
// cut-off replica shows no password (it can neither record that the
// password is being shown nor, once its lease has run out, call IAM);
// the other replica, once the first's heartbeat is stale, offers the
// request to its owner, once; the owner's click gives exactly one
// password, and nothing more happens when the first replica is back.
func TestCutOffMidReset(t *testing.T) {
	w := newAliceWorld(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	slack, iam, proxy, passwords := w.slack, w.iam, w.proxy, w.passwords
	cutOff := w.start(t, proxy.URL(t, w.dbURL))
	if err := slack.WaitConnected(ctx); err != nil {
		t.Fatalf("not connected: %v\n%s", err, tail(cutOff.stderr.String()))
	}
	readyz := readyzOf(t, ctx, cutOff)
	waitUntil(t, ctx, "ready", func() bool { return readyz() == http.StatusOK })

	isOffer := func(m fakeslack.Message) bool {
		return m.Channel == fakeslack.DMChannel(alice) && strings.Contains(m.Text, "was interrupted:") && hasButton(m.Blocks, actionReveal)
	}

	// The only replica connected gets the command; its reset waits in IAM
	// while the database is cut off.
	release := iam.Hold("UpdateLoginProfile")
	id, err := slack.SlashCommand(ctx, fakeslack.SlashCommand{UserID: alice})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := slack.WaitAck(ctx, id); err != nil || !strings.Contains(string(a.Payload), "Working on it") {
		t.Fatalf("ack = %s, %v; want the request started", a.Payload, err)
	}
	if _, err := iam.WaitHeld(ctx, "UpdateLoginProfile"); err != nil {
		t.Fatalf("the reset never reached IAM: %v\n%s", err, tail(cutOff.stderr.String()))
	}
	proxy.Cut()
	release()
	waitUntil(t, ctx, "the cut-off replica to stop short of showing the password", func() bool {
		s := cutOff.stderr.String()
		return strings.Contains(s, "could not record that the password is being shown") || strings.Contains(s, "stopped mid-reset") ||
			passwords() > 0 // caught just below
	})
	if n := passwords(); n != 0 {
		t.Fatalf("passwords shown by the cut-off replica = %d; want 0", n)
	}

	// The other replica, on the database, takes the request up once the
	// first one's heartbeat is stale: an offer, no reset.
	other := w.start(t, w.dbURL)
	if err := slack.WaitOpenConnections(ctx, 2); err != nil {
		t.Fatalf("second replica not connected: %v\n%s", err, tail(other.stderr.String()))
	}
	offer, err := slack.WaitMessage(ctx, isOffer)
	if err != nil {
		t.Fatalf("no offer: %v\n%s", err, tail(other.stderr.String()))
	}
	if n := passwords(); n != 0 {
		t.Fatalf("passwords before the owner's click = %d; want 0", n)
	}

	proxy.Restore()
	waitUntil(t, ctx, "the cut-off replica ready again", func() bool { return readyz() == http.StatusOK })
	click(t, ctx, slack, alice, offer, actionReveal) // on both replicas at once
	waitUntil(t, ctx, "the password", func() bool { return passwords() >= 1 })

	// Both replicas sweep a few times (every second): nothing more may come.
	// (An observation window, not a synchronisation.)
	select {
	case <-time.After(3 * time.Second):
	case <-ctx.Done():
	}
	claimed := count(slack, func(m fakeslack.Message) bool { // the offer, replaced once used
		return m.Channel == fakeslack.DMChannel(alice) && strings.Contains(m.Text, "you asked for the password")
	})
	if n, offers := passwords(), count(slack, isOffer); n != 1 || offers != 0 || claimed != 1 {
		t.Errorf("alice: %d passwords, %d offers standing, %d used; want 1, 0 (no second offer), 1", n, offers, claimed)
	}
	for _, leak := range leakcheck.Find(append(fakeslack.Secrets(), iam.Secrets()...), map[string][]byte{
		"the cut-off replica's log": []byte(cutOff.stderr.String()), "the other's log": []byte(other.stderr.String()),
	}) {
		t.Error(leak)
	}
}
