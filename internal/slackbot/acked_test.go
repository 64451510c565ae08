package slackbot_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/slackbot"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
	"github.com/aws-reset-bot/aws-reset-bot/internal/workflow"
)

// ackRecords is a replica's store whose record of acked commands the test
// controls: it fails while fail is set, and notes what it was given.
type ackRecords struct {
	workflow.ReplicaStore

	mu   sync.Mutex
	fail bool
	got  []store.Acked
}

func (s *ackRecords) HoldAcked(ctx context.Context, replicaID string, at time.Time, cmds []store.Acked) error {
	s.mu.Lock()
	fail := s.fail
	if !fail {
		s.got = append(s.got, cmds...)
	}
	s.mu.Unlock()
	if fail {
		return errors.New("test: the record failed")
	}
	return s.ReplicaStore.HoldAcked(ctx, replicaID, at, cmds)
}

func (s *ackRecords) set(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fail
}

func (s *ackRecords) recorded() []store.Acked {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.Acked(nil), s.got...)
}

// TestAckAfterRecord: with replicas, a command is acked "working on it"
// only once it is recorded, so a replica that dies after the ack leaves a
// record for another to find. When the record fails, the first and only
// word the sender gets is that nothing was started, and nothing is.
// (Slack reads a connection's acks in order: an ack sent before the
// record would be the one WaitAck returns.)
func TestAckAfterRecord(t *testing.T) {
	var records *ackRecords
	var replica *workflow.Replica
	h := newHarness(t, withOptions(func(o *slackbot.Options) {
		records = &ackRecords{ReplicaStore: o.Store.(workflow.ReplicaStore), fail: true}
		replica = &workflow.Replica{ID: "replica-1", Store: records, TTL: time.Minute}
		o.Replica = replica
	}))
	h.start()
	if _, err := replica.Beat(h.ctx(), h.clock.Now()); err != nil { // serve's heartbeats, once
		t.Fatal(err)
	}

	ack := h.command(alice, "")
	if got := string(ack.Payload); !strings.Contains(got, "can't record requests right now") || strings.Contains(got, "Working on it") {
		t.Errorf("first ack with the record failing = %s; want the words that nothing was started", got)
	}
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 0 {
		t.Errorf("IAM resets after a command that could not be recorded = %d; want 0", n)
	}

	records.set(false)
	h.bot.SetStoreReachable(true) // as the next heartbeat that succeeds does
	ack = h.command(alice, "")
	if got := string(ack.Payload); !strings.Contains(got, "Working on it") {
		t.Fatalf("ack with the record taken = %s; want the request started", got)
	}
	h.waitEphemeral(alice, "temporary AWS console password")
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 1 {
		t.Errorf("IAM resets = %d; want 1, for the recorded command alone", n)
	}
	var acked int
	for _, a := range h.slack.Acks() {
		if a.EnvelopeID == ack.EnvelopeID {
			acked++
		}
	}
	if acked != 1 {
		t.Errorf("acks of the recorded command = %d; want 1", acked)
	}
	got := records.recorded()
	if len(got) != 1 || got[0].SlackUser != alice || got[0].EnvelopeID != ack.EnvelopeID || !strings.Contains(string(ack.Payload), got[0].RequestID) {
		t.Errorf("recorded before the ack %+v; want alice's command %s, with the request ID its ack names (%s)", got, ack.EnvelopeID, ack.Payload)
	}
}
