package slackbot

import (
	"context"
	"sync"
	"time"

	"github.com/slack-go/slack/socketmode"

	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/workflow"
)

// With several replicas, a command acked "working on it" and then lost
// with its replica (killed before the work recorded anything) would leave
// its sender waiting for nothing. So, when the workflow asks for it, a
// command is recorded before it is acked: the Run loop hands it to the
// recorder goroutine, which writes whatever has queued since its last
// write in one statement, then acks each (with "working on it", or, if the
// record failed, with the workflow's words that nothing was started) and
// hands their work back to the Run loop. Another replica tells the sender
// if this one dies before handling the command (workflow.Acked). An ack
// then waits one database write, shared by the commands of a burst; a
// single replica on SQLite records nothing and acks at once.

// ackRecorder is the part of the handler that records acked commands.
type ackRecorder interface {
	// RecordsAcks reports whether commands are to be recorded before
	// their ack.
	RecordsAcks() bool
	// Acked records cmds; when it cannot, ok is false and answer says so.
	Acked(ctx context.Context, cmds []workflow.AckedCommand) (answer slacktext.Message, ok bool)
}

// ackRecordTimeout bounds the write before an ack: Slack wants the ack
// within 3 seconds.
const ackRecordTimeout = time.Second

// pendingAck is a command waiting for its record before its ack.
type pendingAck struct {
	req   *socketmode.Request
	start time.Time
	cmd   workflow.AckedCommand
	work  heldWork
}

// ackLog is the queue between the Run loop and the recorder.
type ackLog struct {
	mu       sync.Mutex
	flushing bool // a batch is being recorded and acked
	pending  []pendingAck
	wake     chan struct{}   // one token when pending is not empty; nil: no recorder
	recorded chan []heldWork // recorded and acked: work for the Run loop
	loopDone chan struct{}   // closed when the Run loop has stopped reading recorded
}

// ackCommand acks a command that has work, and holds its work: at once,
// or, with a recorder, once the command is recorded.
func (b *Bot) ackCommand(ctx context.Context, req *socketmode.Request, start time.Time, c workflow.Command, requestID string) {
	work := heldWork{ctx: ctx, f: func(ctx context.Context) { b.handler.HandleCommand(ctx, c, requestID) }}
	if b.acks.wake == nil {
		b.ack(req, workingAck(requestID), start)
		b.holdWork(work.ctx, work.f)
		return
	}
	b.acks.mu.Lock()
	b.acks.pending = append(b.acks.pending, pendingAck{req: req, start: start,
		cmd: workflow.AckedCommand{RequestID: requestID, UserID: c.UserID, EnvelopeID: c.EnvelopeID}, work: work})
	b.acks.mu.Unlock()
	select {
	case b.acks.wake <- struct{}{}:
	default: // already woken
	}
}

// startAckLog starts the recorder, if the handler records; stop records
// and acks what is queued, starts its work, and waits. Call stop after
// the Run loop and before the socket closes.
func (b *Bot) startAckLog(ctx context.Context) (stop func()) {
	rec, ok := b.handler.(ackRecorder)
	if !ok || !rec.RecordsAcks() {
		return func() {}
	}
	b.acks.wake = make(chan struct{}, 1)
	b.acks.recorded = make(chan []heldWork)
	b.acks.loopDone = make(chan struct{})
	quit, done := make(chan struct{}), make(chan struct{})
	flush := func() {
		b.acks.mu.Lock()
		batch := b.acks.pending
		b.acks.pending = nil
		b.acks.flushing = len(batch) > 0
		b.acks.mu.Unlock()
		defer func() {
			b.acks.mu.Lock()
			b.acks.flushing = false
			b.acks.mu.Unlock()
		}()
		if len(batch) == 0 {
			return
		}
		cmds := make([]workflow.AckedCommand, len(batch))
		for i, p := range batch {
			cmds[i] = p.cmd
		}
		began := b.now()
		rctx, cancel := context.WithTimeout(ctx, ackRecordTimeout)
		answer, ok := rec.Acked(rctx, cmds)
		cancel()
		b.metrics.AckRecord(b.now().Sub(began))
		var works []heldWork
		for _, p := range batch {
			if !ok {
				b.ack(p.req, ackPayload(answer), p.start) // nothing started: nothing owed
				continue
			}
			b.ack(p.req, workingAck(p.cmd.RequestID), p.start)
			works = append(works, p.work)
		}
		if len(works) == 0 {
			return
		}
		select {
		case b.acks.recorded <- works:
		case <-b.acks.loopDone: // the Run loop is gone: start the work here
			for _, w := range works {
				b.goWork(w.ctx, w.f)
			}
		}
	}
	go func() {
		defer close(done)
		for {
			select {
			case <-b.acks.wake:
				flush()
			case <-quit:
				flush()
				return
			}
		}
	}()
	return func() {
		close(b.acks.loopDone)
		close(quit)
		<-done
	}
}

// busy reports whether commands wait for their record or ack: their
// work, and the work held with it, waits too (see holdback).
func (l *ackLog) busy() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushing || len(l.pending) > 0
}
