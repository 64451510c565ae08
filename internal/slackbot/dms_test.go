package slackbot_test

import (
	"testing"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
)

// TestDMChannelRemembered checks that the DM channel conversations.open
// answered is remembered across a restart, and that the password still
// goes to that DM alone.
func TestDMChannelRemembered(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.command(alice, "")
	h.waitEphemeral(alice, "IAM user `alice`")
	h.waitDM(alice, "If this wasn't you")
	if err := h.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	h.start()
	seen := h.seen()
	h.command(alice, "")
	m := h.waitNew(seen, func(m fakeslack.Message) bool { return m.Ephemeral && m.User == alice })
	if m.Channel != h.slack.DMChannel(alice) {
		t.Errorf("password went to %s; want alice's DM %s", m.Channel, h.slack.DMChannel(alice))
	}
	if n := len(h.slack.Calls("conversations.open")); n != 1 {
		t.Errorf("conversations.open calls over two runs = %d; want 1", n)
	}
}
