package slackbot

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/workflow"
)

// Acks come before work. Every envelope is acked on the Run loop as it is
// read, but the work it starts competes with that loop for the CPU: on a
// small machine, a burst of commands would see its later acks wait behind
// the resets of the earlier ones. So the work a command or click starts is
// held back while envelopes keep arriving, and handed to the pool once the
// stream pauses for holdQuiet, or at the latest holdMost after the first
// was held. A lone command waits holdQuiet; a burst of a thousand is acked
// first (on one replica at about a bare client's pace) and then worked on
// at full concurrency.
//
// The pause is long next to a stall: on a busy machine a process can go
// unscheduled for tens of milliseconds, and a shorter pause would read the
// stall as the end of the burst and start the work while the rest of the
// burst, on this replica and on others sharing the CPUs, still waits for
// its acks (docs/benchmarks.md, "A third look": with 5 ms the p99 of
// 3 × 1000 on PostgreSQL was 1.4 to 2 times what it is with 100 ms).
// A person waits 100 ms more for work that then takes seconds.
const (
	holdQuiet = 100 * time.Millisecond
	holdMost  = time.Second
)

// heldWork is work waiting for the Run loop to go quiet.
type heldWork struct {
	ctx context.Context
	f   func(context.Context)
}

// holdback holds work back; only the Run loop uses it, so it needs no lock.
type holdback struct {
	quiet, most time.Duration
	items       []heldWork
	since       time.Time // when the first held item arrived
	timer       *time.Timer
}

func newHoldback(quiet, most time.Duration) *holdback {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &holdback{quiet: quiet, most: most, timer: t}
}

// add holds w and sets the timer: quiet from now, but no later than most
// after the first held item.
func (h *holdback) add(now time.Time, w heldWork) {
	if len(h.items) == 0 {
		h.since = now
	}
	h.items = append(h.items, w)
	h.timer.Reset(max(0, min(h.quiet, h.since.Add(h.most).Sub(now))))
}

// due fires when the held work should go; nil (never) when none is held.
func (h *holdback) due() <-chan time.Time {
	if h == nil || len(h.items) == 0 {
		return nil
	}
	return h.timer.C
}

// postpone sets the timer again, as add does, for work that must wait a
// little more; it reports false once the work has waited most.
func (h *holdback) postpone(now time.Time) bool {
	wait := h.since.Add(h.most).Sub(now)
	if wait <= 0 {
		return false
	}
	h.timer.Reset(min(h.quiet, wait))
	return true
}

// take returns the held work, oldest first, and holds nothing more.
func (h *holdback) take() []heldWork {
	if h == nil {
		return nil
	}
	items := h.items
	h.items = nil
	h.timer.Stop()
	return items
}

// holdWork is goWork for work started by an envelope: it goes to the pool
// when the Run loop has no more envelopes to ack (see holdQuiet).
func (b *Bot) holdWork(ctx context.Context, f func(context.Context)) {
	if b.held == nil {
		b.goWork(ctx, f)
		return
	}
	b.held.add(b.now(), heldWork{ctx: ctx, f: f})
}

// releaseHeld hands all held work to the pool, in arrival order. Once in
// a slot, each waits to be admitted under Slack's limits (see pacer.admit)
// and only then starts its deadline, so a request that queued behind a
// Retry-After still has its whole deadline to finish.
func (b *Bot) releaseHeld() {
	for _, w := range b.held.take() {
		b.goWork(w.ctx, func(context.Context) {
			if err := b.client.pace.admit(w.ctx); err != nil {
				return // shutting down; the ack promised nothing more
			}
			ctx, cancel := context.WithTimeout(w.ctx, b.opts.Deadline)
			defer cancel()
			w.f(ctx)
		})
	}
}

// ackPlaceholder stands for the request ID in the encoded working ack. It
// has a request ID's shape, so the message renders it as it would any ID.
const ackPlaceholder = "RZZZZZZZZZZ"

// workingAckParts is the ack payload of workingMessage, encoded once and
// cut where the request ID goes.
var workingAckParts = sync.OnceValue(func() [][]byte {
	b, err := json.Marshal(ackPayload(workflow.WorkingMessage(ackPlaceholder)))
	if err != nil {
		panic("slackbot: encode the working ack: " + err.Error())
	}
	return bytes.Split(b, []byte(ackPlaceholder))
})

// workingAck is ackPayload(workflow.WorkingMessage(id)) as JSON, without encoding
// it again for every command of a burst. id must be a request ID
// (request.ValidID), which JSON and mrkdwn carry unchanged.
func workingAck(id string) json.RawMessage {
	return bytes.Join(workingAckParts(), []byte(id))
}
